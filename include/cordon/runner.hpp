// SPDX-License-Identifier: MIT
// cordon: Runner, which runs an (already clamped) policy through a backend and the verified executor.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/backend.hpp"
#include "cordon/backend_host.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/helper_tools.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/error.hpp"
#include "cordon/executor.hpp"
#include "cordon/pins.hpp"
#include "cordon/policy.hpp"
#include "cordon/run_result.hpp"
#include "cordon/verification_cache.hpp"
#include "cordon/verified_executor.hpp"

namespace cordon {

struct RunnerOptions {
    std::optional<Backend> backend;             ///< default: the host's (host_backend())
    ExecutorSpec executor;                      ///< explicit executor path / SDK version; default: search
    std::filesystem::path plugin_dir;           ///< default: the install directory
    const BackendRegistry* registry = nullptr;  ///< statically linked backends, tried before modules
    /// Skips re-hashing an executor file verified before and unchanged since (docs/executor-trust.md,
    /// "Verification cache"); `enabled = false` or CORDON_VERIFY_CACHE=off always hashes.
    VerificationCacheOptions verification_cache;
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
    std::vector<HelperTool> network_tools;  ///< Capabilities::network_tools as found here, when made
};

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
    /// The programs the executor needs for a network that is more than closed (egress rules), as it
    /// will find them on the root-only PATH it gets; looked up when the runner was made.
    const std::vector<detail::HelperTool>& network_tools() const noexcept { return state_->network_tools; }

    /// The policy as this runner would send it: containment pinned to the runner's backend, adjusted
    /// by the backend's own prepare step (LoadedBackend::prepare), every capability and preflight
    /// check applied, the network tools it needs found usable here.
    /// Errors: invalid-policy, backend-unsupported.
    Result<Policy> prepare(const Policy& policy) const;

    /// The exact MXC config text `run` hands to the executor.
    Result<std::string> config_for(const Policy& policy) const;

    /// The contract this runner emits `policy` with: the newest one its verified executor accepts
    /// that can express the policy (choose_contract). Errors: backend-unsupported.
    Result<const Contract*> contract_for(const Policy& policy) const;

    /// Runs an already clamped policy. A network more than closed (egress rules, `default: allow`, a
    /// proxy) is refused (backend-unsupported) when the executor's network tools are not all usable
    /// here (network_tools()) or its devices not usable by the sandbox's user (/dev/net/tun).
    /// The policy's run_as and limits (from the ceiling) apply;
    /// `options` can only lower the limits, and naming another user there is refused. The sandbox's
    /// user must be able to use every grant. While it runs, no other run of this host (as this user
    /// sees them) may be able to write a parent directory of its paths, nor it of theirs
    /// (detail::register_run). A timeout is a result (timed_out), not an Error; so is a failure of
    /// the executor (failure != none). Errors: invalid-policy, backend-unsupported (see prepare),
    /// unavailable (a conflicting run), execution-failed (the run could not be attempted).
    Result<RunResult> run(const Policy& policy, const RunOptions& options = {}) const;

    /// Binds an agent identity to the sandbox. Phase 1: nothing to bind, always succeeds; the
    /// session-isolation path (session.hpp) is where Phase 2 will do it.
    Status identity_binding(std::string_view agent_id) const {
        (void)agent_id;
        return {};
    }

    /// What a clamp for this runner must never grant read-write (ClampOptions::anchors): the
    /// verified executor's own directory, the root-only directories it runs helpers from, and every
    /// directory a network tool's symlinks pass through (/etc/alternatives for iptables on Debian).
    std::vector<TrustAnchor> trust_anchors() const;

    /// Slack added to cordon's own timer beyond the policy timeout.
    static constexpr std::uint32_t timeout_slack_ms = 250;

private:
    std::optional<Capabilities> network_row(const Policy& prepared) const;
    Result<detail::RunRequest> request_for(const Policy& prepared, const RunOptions& options) const;

    std::shared_ptr<const detail::RunnerState> state_;
};

/// Picks the backend (the host's by default), resolves and verifies its executor, loads the
/// backend, and checks that it enforces deny-by-default with that executor.
/// Errors: unavailable (no executor, no backend, wrong OS; the message says how to install),
/// untrusted-executor (digest mismatch), backend-unsupported (the executor cannot limit reads,
/// writes or the network).
CORDON_FUNC Result<Runner> make_runner(const RunnerOptions& options = {});

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/runner.hpp"
#endif
