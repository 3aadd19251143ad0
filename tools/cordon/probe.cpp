// SPDX-License-Identifier: MIT
// cordon probe: what would run here: backend, verified executor, and what it enforces (measured or assumed).
#include <iostream>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/detail/capabilities_wire.hpp"
#include "cordon/runner.hpp"
#include "options.hpp"
#include "static_backends.hpp"

namespace cordon::cli {

namespace {

const CommandDoc probe_doc{
    "probe",
    "show the backend, the verified executor and what it enforces",
    "[--executor PATH] [--json]",
    "Makes the runner `cordon run` would use and reports it: the backend for this host, the\n"
    "executor (path, SHA-256, the SDK version it matches), and the backend's capabilities with\n"
    "that executor, each marked measured (by cordon's tests against the real executor) or\n"
    "assumed (from upstream documentation; not runnable here).",
    "0 ready, 1 untrusted executor or unsupported backend, 3 unavailable, 2 usage.",
    "cordon setup && cordon probe --json",
};

class Probe final : public Command {
public:
    const CommandDoc& doc() const override { return probe_doc; }
    void define(CLI::App& app) override {
        opt::group(app, "Options");
        opt::single(app, "--executor", executor_, "PATH", "MXC executor to verify and use (default: MXC_BIN_DIR, cordon's cache, npm prefix)");
    }
    int run(Output& out) override;

private:
    std::optional<std::string> executor_;
};

void print_text(const Runner& runner) {
    const VerifiedExecutor& exe = runner.executor();
    const Capabilities& caps = runner.capabilities();
    const std::string evidence = caps.evidence == Evidence::measured ? "measured" : "assumed";
    auto row = [&](const char* name, bool value) {
        std::cout << "  " << name << std::string(20 - std::string(name).size(), ' ') << (value ? "yes" : "NO ")
                  << "  (" << evidence << ")\n";
    };
    std::cout << "backend: " << to_string(runner.backend()) << "\n"
              << "executor: " << exe.path().string() << "\n"
              << "  sha256 " << exe.sha256() << "\n"
              << "  SDK " << exe.sdk_version() << ", verified against cordon's pin\n"
              << "capabilities (source: " << caps.source << "):\n";
    row("read allow-list", caps.read_allowlist);
    row("write allow-list", caps.write_allowlist);
    row("denied paths", caps.denied_paths);
    row("network block", caps.network_block);
    row("host filtering", caps.host_filtering);
    row("executor timeout", caps.executor_timeout);
    row("file-level grants", caps.file_grants);
    row("ui limits", caps.ui_limits);
    std::cout << "A policy needing a capability marked NO is refused (backend-unsupported).\n";
}

int Probe::run(Output& out) {
    RunnerOptions options;
    options.registry = &static_backends();
    if (executor_) options.executor.explicit_path = *executor_;
    auto runner = make_runner(options);
    if (!runner) {
        const Error& e = runner.error();
        const int status = e.code == ErrorCode::unavailable ? 3 : 1;
        if (out.json())
            return out.result({{"backend", to_string(host_backend())},
                               {"ready", false},
                               {"error", {{"code", to_string(e.code)}, {"message", e.message}, {"where", e.where}}}},
                              status);
        std::cout << "backend: " << to_string(host_backend()) << "\n";
        return out.fail(e, status);  // not ready: why, on stderr
    }
    if (!out.json()) {
        print_text(*runner);
        return 0;
    }
    const VerifiedExecutor& exe = runner->executor();
    return out.result({{"backend", to_string(runner->backend())},
                       {"ready", true},
                       {"executor",
                        {{"path", exe.path().string()},
                         {"sha256", exe.sha256()},
                         {"sdk_version", exe.sdk_version()},
                         {"contracts", find_sdk_release(exe.sdk_version())->contracts}}},
                       {"capabilities", boost::json::parse(detail::capabilities_to_json(runner->capabilities()))}},
                      0);
}

}  // namespace

std::unique_ptr<Command> make_probe() { return std::make_unique<Probe>(); }

}  // namespace cordon::cli
