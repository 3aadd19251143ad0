// SPDX-License-Identifier: MIT
// cordon: Runner, which runs an (already clamped) policy through a backend and the verified executor.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

#include "cordon/backend.hpp"
#include "cordon/backend_host.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/detail/utf16.hpp"
#include "cordon/error.hpp"
#include "cordon/executor.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/path.hpp"
#include "cordon/pins.hpp"
#include "cordon/policy.hpp"
#include "cordon/run_result.hpp"
#include "cordon/verified_executor.hpp"

namespace cordon {

struct RunnerOptions {
    std::optional<Backend> backend;             ///< default: the host's (host_backend())
    ExecutorSpec executor;                      ///< explicit executor path / SDK version; default: search
    std::filesystem::path plugin_dir;           ///< default: the install directory
    const BackendRegistry* registry = nullptr;  ///< statically linked backends, tried before modules
};

/// The OS whose executor drives a backend.
constexpr std::string_view backend_os(Backend b) noexcept {
    switch (b) {
        case Backend::bubblewrap: return os_linux;
        case Backend::seatbelt: return os_darwin;
        case Backend::processcontainer: return os_win32;
        case Backend::session: return os_win32;
    }
    return "";
}

namespace detail {

// What every run needs; fixed when the runner is made. Shared so Runner copies stay cheap and the
// verified executor stays open for as long as any copy may launch it.
struct RunnerState {
    Backend backend;
    LoadedBackend loaded;
    VerifiedExecutor executor;
    Capabilities capabilities;
};

// A backend that cannot limit reads, writes and the network is not a sandbox cordon will drive.
inline Status require_baseline(const Capabilities& c) {
    std::string missing;
    if (!c.read_allowlist) missing += " reads are not limited to granted paths;";
    if (!c.write_allowlist) missing += " writes are not limited to granted paths;";
    if (!c.network_block) missing += " the network cannot be blocked;";
    if (missing.empty()) return {};
    missing.pop_back();
    return make_error(ErrorCode::backend_unsupported,
                      std::string(to_string(c.backend)) + " with executor SDK " + std::string(c.sdk_version) +
                          " does not enforce deny-by-default:" + missing + " (" + std::string(c.source) + ")");
}

// bubblewrap aborts the launch on a grant whose source does not exist or a cwd it cannot enter,
// with an exit code indistinguishable from a config error, so cordon refuses such a policy up front
// with a message naming the path (docs/clamp-rules.md: "missing grant sources").
inline Status preflight_bubblewrap(const Policy& p) {
    auto check = [](const std::vector<std::string>& paths, std::string_view field) -> Status {
        for (std::size_t i = 0; i < paths.size(); ++i) {
            std::string where = std::string(field) + "/" + std::to_string(i);
            auto parsed = Path::parse(paths[i], PathStyle::posix);
            if (!parsed) return make_error(ErrorCode::invalid_policy, parsed.error().message, where);
            struct stat st {};
            if (::stat(paths[i].c_str(), &st) != 0)
                return make_error(ErrorCode::invalid_policy,
                                  "'" + paths[i] + "' does not exist; bubblewrap cannot bind a missing path (create "
                                  "it first, or grant its existing parent directory)",
                                  where);
        }
        return {};
    };
    if (auto s = check(p.filesystem.readwrite, "/filesystem/readwritePaths"); !s) return s;
    if (auto s = check(p.filesystem.readonly, "/filesystem/readonlyPaths"); !s) return s;
    if (auto s = check(p.filesystem.denied, "/filesystem/deniedPaths"); !s) return s;
    if (p.process.cwd && !p.process.cwd->empty()) {
        auto cwd = Path::parse(*p.process.cwd, PathStyle::posix);
        if (!cwd) return make_error(ErrorCode::invalid_policy, cwd.error().message, "/process/cwd");
        bool granted = false;
        for (const auto* list : {&p.filesystem.readwrite, &p.filesystem.readonly})
            for (const auto& g : *list)
                if (auto root = Path::parse(g, PathStyle::posix); root && within(*cwd, *root)) granted = true;
        if (!granted)
            return make_error(ErrorCode::invalid_policy,
                              "cwd '" + *p.process.cwd + "' is not inside a granted path; bubblewrap could not enter it",
                              "/process/cwd");
    }
    return {};
}

}  // namespace detail

/// Runs policies with one backend and one verified executor. Copies share the executor, which
/// stays open (and, on Windows, locked against writers) for as long as any copy lives.
/// Thread safety: run() may be called from several threads.
class Runner {
public:
    explicit Runner(std::shared_ptr<const detail::RunnerState> state) : state_(std::move(state)) {}

    Backend backend() const noexcept { return state_->backend; }
    const Capabilities& capabilities() const noexcept { return state_->capabilities; }
    const VerifiedExecutor& executor() const noexcept { return state_->executor; }

    /// The policy as this runner would send it: containment pinned to the runner's backend, every
    /// capability and preflight check applied. Errors: invalid-policy, backend-unsupported.
    Result<Policy> prepare(const Policy& policy) const {
        Policy p = policy;
        const Containment own = containment_of(backend());
        if (p.containment && *p.containment != own && *p.containment != Containment::process)
            return make_error(ErrorCode::invalid_policy,
                              "policy asks for containment \"" + std::string(to_string(*p.containment)) +
                                  "\" but this runner drives " + std::string(to_string(backend())),
                              "/containment");
        p.containment = own;  // explicit: `process` would let the executor pick by host
        const Capabilities& caps = capabilities();
        if (p.network && (!p.network->allowed_hosts.empty() || !p.network->blocked_hosts.empty()) &&
            !caps.host_filtering)
            return make_error(ErrorCode::backend_unsupported,
                              std::string(to_string(backend())) + " does not enforce host lists with contract " +
                                  std::string(emit_contract(p).version) + "; refusing rather than running unfiltered",
                              "/network");
        if (!p.filesystem.denied.empty() && !caps.denied_paths)
            return make_error(ErrorCode::backend_unsupported,
                              std::string(to_string(backend())) + " does not enforce deniedPaths; refusing",
                              "/filesystem/deniedPaths");
        if (backend() == Backend::bubblewrap)
            if (auto s = detail::preflight_bubblewrap(p); !s) return s.error();
        const Contract& contract = emit_contract(p);
        if (!sdk_accepts_contract(executor().sdk_version(), contract.version))
            return make_error(ErrorCode::backend_unsupported,
                              "executor SDK " + std::string(executor().sdk_version()) + " does not accept contract " +
                                  std::string(contract.version),
                              "/version");
        return p;
    }

    /// The exact MXC config text `run` hands to the executor.
    Result<std::string> config_for(const Policy& policy) const {
        auto p = prepare(policy);
        if (!p) return p.error();
        return to_mxc_json(*p, emit_contract(*p));
    }

    /// Runs an already clamped policy. A timeout is a result (timed_out), not an Error; so is a
    /// failure of the executor (failure != none). Errors: invalid-policy, backend-unsupported
    /// (see prepare), execution-failed (the run could not be attempted).
    Result<RunResult> run(const Policy& policy, const RunOptions& options = {}) const {
        auto config = config_for(policy);
        if (!config) return config.error();
        detail::RunRequest request;
        request.config_json = std::move(*config);
#if defined(_WIN32)
        // The handle's final path, as UTF-8 (path::string() would be the ANSI code page). The state
        // keeps the handle, and with it the write/delete lock, open until after the launch.
        const std::wstring wide = executor().launch_path().wstring();
        auto utf8 = detail::utf16_to_utf8(std::u16string(wide.begin(), wide.end()));
        if (!utf8) return make_error(ErrorCode::execution_failed, "executor path is not valid UTF-16");
        request.executor_path = std::move(*utf8);
#else
        request.executor_path = executor().path().string();
        request.executor_fd = executor().fd();
#endif
        request.sdk_version = std::string(executor().sdk_version());
        // Our own clock backs up the executor's: a little later, so a working executor reports first.
        std::uint32_t t = policy.process.timeout.wire_value();
        request.timeout_ms = t == 0 ? 0 : (t > UINT32_MAX - timeout_slack_ms ? UINT32_MAX : t + timeout_slack_ms);
        request.options = options;
        auto result = state_->loaded.run(request);
        if (!result) return result;
        // lxc-exec 0.9.0 kills the tree itself and reports `script timed out after Nms`
        if (result->failure == ExecutorFailure::backend_error &&
            result->failure_message.find("timed out after") != std::string::npos)
            result->timed_out = true;
        return result;
    }

    /// Binds an agent identity to the sandbox. Phase 1: nothing to bind, always succeeds; the
    /// session-isolation path (session.hpp) is where Phase 2 will do it.
    Status identity_binding(std::string_view agent_id) const {
        (void)agent_id;
        return {};
    }

    /// Slack added to cordon's own timer beyond the policy timeout.
    static constexpr std::uint32_t timeout_slack_ms = 250;

private:
    std::shared_ptr<const detail::RunnerState> state_;
};

/// Picks the backend (the host's by default), resolves and verifies its executor, loads the
/// backend, and checks that it enforces deny-by-default with that executor.
/// Errors: unavailable (no executor, no backend, wrong OS; the message says how to install),
/// untrusted-executor (digest mismatch), backend-unsupported (the executor cannot limit reads,
/// writes or the network).
inline Result<Runner> make_runner(const RunnerOptions& options = {}) {
    try {
        const Backend backend = options.backend.value_or(host_backend());
        if (backend == Backend::session)
            return make_error(ErrorCode::unavailable, "no runner is registered for the session backend (Phase 2)",
                              "session");
        if (backend_os(backend) != host_os())
            return make_error(ErrorCode::unavailable, "the " + std::string(to_string(backend)) + " backend runs on " +
                                                          std::string(backend_os(backend)) + ", not on " +
                                                          std::string(host_os()));
        ExecutorSpec spec = options.executor;
        spec.os = std::string(backend_os(backend));
        auto executor = open_trusted_executor(spec);
        if (!executor) return executor.error();
        BackendRegistry empty;
        const BackendRegistry& registry = options.registry ? *options.registry : empty;
        auto loaded = registry.load(backend, options.plugin_dir);
        if (!loaded) return loaded.error();
        auto caps = loaded->capabilities(executor->sdk_version());
        if (!caps) return caps.error();
        if (auto s = detail::require_baseline(*caps); !s) return s.error();
        auto state = std::make_shared<detail::RunnerState>(
            detail::RunnerState{backend, std::move(*loaded), std::move(*executor), *caps});
        return Runner(std::move(state));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("make_runner: ") + e.what());
    }
}

}  // namespace cordon
