// SPDX-License-Identifier: MIT
// cordon probe: what would run here: backend, verified executor, and what it enforces (measured or assumed).
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/detail/capabilities_wire.hpp"
#include "cordon/detail/trusted_dirs.hpp"
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
    "assumed (from upstream documentation; not runnable here). Then the PATH the executor gets\n"
    "(only directories root alone can write) and the helper programs it needs there for egress\n"
    "rules: each found where, or why it cannot be used (egress rules are then refused).",
    "0 ready, 1 untrusted executor or unsupported backend, 3 unavailable, 2 usage.",
    "cordon setup && cordon probe --json",
};

std::string helper_path(const Capabilities& caps) {
    std::string path;
    for (const std::string& dir : detail::trusted_helper_dirs(caps.helper_dirs)) path += (path.empty() ? "" : ":") + dir;
    return path;
}

boost::json::array tools_json(const std::vector<detail::HelperTool>& tools) {
    boost::json::array out;
    for (const auto& t : tools)
        out.push_back({{"name", t.name}, {"path", t.path}, {"resolved", t.resolved}, {"usable", t.usable()},
                       {"problem", t.problem}});
    return out;
}

// The devices the network tools open, for the sandbox's default user (the ceiling's runAs may name another).
RunAs probe_user() {
    if (auto who = detail::default_run_as()) return *who;
#if defined(_WIN32)
    return RunAs{};
#else
    return RunAs{static_cast<std::uint32_t>(::geteuid()), static_cast<std::uint32_t>(::getegid())};
#endif
}

std::vector<std::pair<std::string, std::string>> devices(const Capabilities& caps) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::string_view rest = caps.network_devices; !rest.empty();) {
        auto cut = rest.find(' ');
        std::string dev(rest.substr(0, cut));
        rest.remove_prefix(cut == std::string_view::npos ? rest.size() : cut + 1);
        if (!dev.empty()) out.emplace_back(dev, detail::device_problem(dev, probe_user()));
    }
    return out;
}

boost::json::array devices_json(const Capabilities& caps) {
    boost::json::array out;
    for (const auto& [dev, problem] : devices(caps))
        out.push_back({{"path", dev}, {"uid", probe_user().uid}, {"usable", problem.empty()}, {"problem", problem}});
    return out;
}

void print_tools(const Capabilities& caps, const std::vector<detail::HelperTool>& tools) {
    std::cout << "executor PATH: " << helper_path(caps) << "\n";
    if (tools.empty()) return;
    bool all = true;
    std::cout << "network helpers (for egress rules):\n";
    for (const auto& t : tools) {
        all = all && t.usable();
        std::cout << "  " << t.name << std::string(t.name.size() < 20 ? 20 - t.name.size() : 1, ' ');
        if (!t.usable()) std::cout << "NO   " << t.problem << "\n";
        else std::cout << t.path << (t.resolved != t.path ? " -> " + t.resolved : "") << "\n";
    }
    for (const auto& [dev, problem] : devices(caps)) {
        all = all && problem.empty();
        std::cout << "  " << dev << std::string(dev.size() < 20 ? 20 - dev.size() : 1, ' ')
                  << (problem.empty() ? "usable by uid " + std::to_string(probe_user().uid) : "NO   " + problem) << "\n";
    }
    if (!all) std::cout << "Egress rules are refused (backend-unsupported) until every helper is usable.\n";
}

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
              << "  SDK " << exe.sdk_version() << ", verified against cordon's pin ("
              << (exe.verified_from_cache() ? "digest remembered from an earlier hash of this unchanged file" : "hashed now")
              << "); accepts contracts "
              << find_sdk_release(exe.sdk_version())->contracts << "\n"
              << "capabilities at contract " << detail::first_word(caps.contracts) << " (source: " << caps.source
              << "):\n";
    row("read allow-list", caps.read_allowlist);
    row("write allow-list", caps.write_allowlist);
    row("denied paths", caps.denied_paths);
    row("network block", caps.network_block);
    row("host filtering", caps.host_filtering);
    row("egress rules", caps.egress_rules);
    row("ingress allow", caps.ingress);
    row("proxy enforced", caps.proxy_enforced);
    row("executor timeout", caps.executor_timeout);
    row("file-level grants", caps.file_grants);
    row("ui limits", caps.ui_limits);
    row("cancellation", caps.cancellation);
    row("process controls", caps.process_controls);
    row("bind-mounted grants", caps.bind_mounts);
    std::cout << "A policy needing a capability marked NO is refused (backend-unsupported).\n";
    print_tools(caps, runner.network_tools());
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
                         {"contracts", find_sdk_release(exe.sdk_version())->contracts},
                         {"verified", exe.verified_from_cache() ? "cache" : "hashed"}}},
                       {"capabilities", boost::json::parse(detail::capabilities_to_json(runner->capabilities()))},
                       {"executor_path", helper_path(runner->capabilities())},
                       {"network_tools", tools_json(runner->network_tools())},
                       {"network_devices", devices_json(runner->capabilities())}},
                      0);
}

}  // namespace

std::unique_ptr<Command> make_probe() { return std::make_unique<Probe>(); }

}  // namespace cordon::cli
