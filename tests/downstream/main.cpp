// SPDX-License-Identifier: MIT
// A downstream program, as an embedder writes it: the umbrella header, a ceiling, a clamped request,
// make_runner and one real run. Built in compiled and header-only mode (tests/downstream/run.sh).
//   downstream PLUGIN_DIR     (the executor comes from MXC_BIN_DIR)
#include <cordon/cordon.hpp>

#include <iostream>

namespace {
int fail(int code, const cordon::Error& e) {
    std::cerr << "downstream: " << e.to_string() << "\n";
    return code;
}
}  // namespace

int main(int argc, char** argv) {
    using namespace cordon;
    if (argc != 2) return std::cerr << "usage: downstream PLUGIN_DIR\n", 64;
    if (validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"bogus":1})").empty()) return 1;

    // Lexical clamp: pure, no disk.
    auto lexical = parse_ceiling(R"({"readwritePaths":["/srv/agent"],"timeout":1000})", {PathStyle::posix, false});
    auto request = from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"make"},
                                     "filesystem":{"readwritePaths":["/srv/agent/out","/etc"]}})");
    if (!lexical) return fail(2, lexical.error());
    if (!request) return fail(2, request.error());
    auto narrowed = clamp(*request, *lexical, *capabilities_for(Backend::bubblewrap, "0.9.0"),
                          ClampOptions::of(PathStyle::posix, false));
    if (!narrowed) return fail(3, narrowed.error());
    if (narrowed->policy.filesystem.readwrite != std::vector<std::string>{"/srv/agent/out"}) return 4;

    // A real run: the backend module from PLUGIN_DIR, the verified executor, an empty ceiling.
    RunnerOptions options;
    options.plugin_dir = argv[1];
    auto runner = make_runner(options);
    if (!runner) return fail(5, runner.error());
    auto ceiling = parse_ceiling("{}");
    if (!ceiling) return fail(6, ceiling.error());
    Policy run_request;
    run_request.process.command_line = "echo downstream-ok";
    auto clamped = clamp(run_request, *ceiling, runner->capabilities());
    if (!clamped) return fail(7, clamped.error());
    auto result = runner->run(clamped->policy);
    if (!result) return fail(8, result.error());
    std::cout << result->out;
    return result->out == "downstream-ok\n" && result->exit_code == 0 ? 0 : 9;
}
