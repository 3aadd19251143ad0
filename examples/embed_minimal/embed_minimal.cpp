// SPDX-License-Identifier: MIT
// The smallest useful embedding: operator ceiling from CORDON_* variables, an agent's request,
// clamp, validate, run. (The README shows this file.)
#include <iostream>

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/runner.hpp"

int main(int argc, char** argv) {
    using namespace cordon;
    auto ceiling = ceiling_from_env("CORDON_");  // e.g. CORDON_READWRITE_PATHS=/tmp/agent
    if (!ceiling) return std::cerr << ceiling.error().to_string() << "\n", 125;

    RunnerOptions options;                        // host backend, executor from MXC_BIN_DIR
    if (argc > 1) options.plugin_dir = argv[1];   // default: the installed plugin directory
    auto runner = make_runner(options);
    if (!runner) return std::cerr << runner.error().to_string() << "\n", 126;

    Policy request;                               // what the agent asked for
    request.process.command_line = "echo hello from the sandbox > greeting.txt; cat greeting.txt";
    request.process.cwd = "/tmp/agent";
    request.filesystem.readwrite = {"/tmp/agent"};
    request.filesystem.readonly = {"/home"};      // not in the ceiling: dropped, and reported

    auto clamped = clamp(request, *ceiling, runner->capabilities());
    if (!clamped) return std::cerr << clamped.error().to_string() << "\n", 125;
    std::cerr << clamped->report.to_json() << "\n";
    auto config = runner->config_for(clamped->policy);  // the exact, validated MXC JSON
    if (!config) return std::cerr << config.error().to_string() << "\n", 125;

    auto result = runner->run(clamped->policy);
    if (!result) return std::cerr << result.error().to_string() << "\n", 126;
    std::cout << result->out;
    return result->timed_out ? 124 : result->exit_code;
}
