// SPDX-License-Identifier: MIT
// cordon POSIX backends: what bubblewrap and seatbelt share: a run request in, an executor run out.
#pragma once

#include <string>

#include "cordon/detail/base64.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/detail/trusted_dirs.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/error.hpp"
#include "cordon/run_result.hpp"
#include "run_executor.hpp"

namespace cordon::posix {

/// The executor's environment: only a PATH, so it finds bwrap (and nothing of the embedding
/// program's environment reaches it; the contained command's comes from the config). That PATH
/// holds exactly the backend's helper directories that only root can write: an executor looks
/// its helpers up on PATH and runs them outside any sandbox, so a PATH entry a user or a grant
/// could write would let them replace bwrap or iptables (detail::trusted_helper_dirs).
/// Errors: execution-failed when none of them is trustworthy.
inline Result<std::vector<std::string>> executor_environment(Backend backend, std::string_view sdk_version) {
    auto row = capabilities_for(backend, sdk_version);
    std::vector<std::string> rejected;
    auto dirs = detail::trusted_helper_dirs(row ? row->helper_dirs : system_helper_dirs, &rejected);
    if (dirs.empty()) {
        std::string why;
        for (const auto& r : rejected) why += "; " + r;
        return make_error(ErrorCode::execution_failed,
                          "no directory the executor's helper programs may come from is writable by root only" + why);
    }
    std::string path = "PATH=";
    for (std::size_t i = 0; i < dirs.size(); ++i) path += (i ? ":" : "") + dirs[i];
    return std::vector<std::string>{path};
}

/// Runs `request` with `launch`, or for a dry run only reports the invocation. Output, exit code,
/// timing and the executor's own failure go into `result`; an anomaly of the process tree (a
/// descendant that escaped and held the pipes) is appended to failure_message.
inline Status run_posix_backend(const detail::RunRequest& request, const ExecutorLaunch& launch, RunResult& result) {
    if (request.options.dry_run) {
        std::vector<std::string> config_args;
        switch (request.options.delivery) {
            case ConfigDelivery::file: config_args = {"--config", "<private 0600 file in a 0700 directory>"}; break;
            case ConfigDelivery::descriptor: config_args = {"--config", "/dev/fd/<sealed config descriptor>"}; break;
            case ConfigDelivery::base64:
                config_args = {"--config-base64", detail::base64_encode(request.config_json)};
                break;
        }
        result.invocation = executor_argv(request, launch, config_args);
        result.exit_code = 0;
        return {};
    }
    auto ran = run_executor(request, launch);
    if (!ran) return ran.error();
    result = std::move(ran->run);
    if (!ran->incident.empty())
        result.failure_message += (result.failure_message.empty() ? "" : "; ") + ran->incident;
    return {};
}

}  // namespace cordon::posix
