// SPDX-License-Identifier: MIT
// cordon probe: what would run here: backend, verified executor, and what it enforces (measured or assumed).
#include <iostream>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/detail/capabilities_wire.hpp"
#include "cordon/runner.hpp"
#include "static_backends.hpp"

namespace cordon::cli {

extern const std::string_view probe_help =
    "Usage: cordon probe [--json] [--executor PATH]\n"
    "\n"
    "Makes the runner `cordon run` would use and reports it: the backend for this host, the\n"
    "executor (path, SHA-256, the SDK version it matches), and the backend's capabilities with\n"
    "that executor, each marked measured (by cordon's tests against the real executor) or\n"
    "assumed (from upstream documentation; not runnable here).\n"
    "\n"
    "Exit status: 0 ready, 1 untrusted executor or unsupported backend, 3 unavailable, 2 usage.\n"
    "\n"
    "Example:\n"
    "  eval \"$(scripts/setup_sandbox.sh --print-env)\" && cordon probe --json\n";

int run_probe(const Args& args) {
    bool json = false;
    RunnerOptions options;
    options.registry = &static_backends();
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (is_help(args[i])) {
            std::cout << probe_help;
            return 0;
        }
        if (args[i] == "--json") json = true;
        else if (args[i] == "--executor" && i + 1 < args.size()) options.executor.explicit_path = std::string(args[++i]);
        else return usage_error("probe", "unknown argument '" + std::string(args[i]) + "'");
    }
    auto runner = make_runner(options);
    if (!runner) {
        const Error& e = runner.error();
        if (json) {
            boost::json::object o{{"backend", to_string(host_backend())},
                                  {"ready", false},
                                  {"error", {{"code", to_string(e.code)}, {"message", e.to_string()}}}};
            std::cout << boost::json::serialize(o) << "\n";
        } else {
            std::cout << "backend: " << to_string(host_backend()) << "\nnot ready: " << to_string(e.code) << ": "
                      << e.to_string() << "\n";
        }
        return e.code == ErrorCode::unavailable ? 3 : 1;
    }
    const VerifiedExecutor& exe = runner->executor();
    const Capabilities& caps = runner->capabilities();
    if (json) {
        boost::json::object o{{"backend", to_string(runner->backend())},
                              {"ready", true},
                              {"executor",
                               {{"path", exe.path().string()},
                                {"sha256", exe.sha256()},
                                {"sdk_version", exe.sdk_version()},
                                {"contracts", find_sdk_release(exe.sdk_version())->contracts},
                                {"verified", exe.verified_from_cache() ? "cache" : "hashed"}}},
                              {"capabilities", boost::json::parse(detail::capabilities_to_json(caps))}};
        std::cout << boost::json::serialize(o) << "\n";
        return 0;
    }
    const std::string evidence = caps.evidence == Evidence::measured ? "measured" : "assumed";
    auto row = [&](const char* name, bool value) {
        std::cout << "  " << name << std::string(20 - std::string(name).size(), ' ') << (value ? "yes" : "NO ")
                  << "  (" << evidence << ")\n";
    };
    std::cout << "backend: " << to_string(runner->backend()) << "\n"
              << "executor: " << exe.path().string() << "\n"
              << "  sha256 " << exe.sha256() << "\n"
              << "  SDK " << exe.sdk_version() << ", verified against cordon's pin ("
              << (exe.verified_from_cache() ? "digest remembered from an earlier hash of this unchanged file" : "hashed now")
              << ")\n"
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
    return 0;
}

}  // namespace cordon::cli
