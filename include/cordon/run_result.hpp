// SPDX-License-Identifier: MIT
// cordon: how a run is asked for (RunOptions) and what it reports (RunResult), on every backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"

namespace cordon {

/// How the MXC config reaches the executor. A private file is the default because argv is
/// readable by every local user (/proc/PID/cmdline, Windows process listings).
enum class ConfigDelivery : std::uint8_t { file, base64 };

struct RunOptions {
    ConfigDelivery delivery = ConfigDelivery::file;
    std::uint32_t grace_ms = 2000;          ///< after the timeout: SIGTERM -> SIGKILL delay, then the drain bound
    std::size_t output_limit = 1u << 20;    ///< bytes kept per stream (stdout, stderr); the rest is counted and dropped
    bool dry_run = false;                   ///< spawn nothing: only report the invocation that would run
    /// POSIX: a descriptor that becomes readable when the run is to be cancelled (the read end of a
    /// pipe, an eventfd). The run then ends as on a timeout: SIGTERM and SIGCONT to the executor's
    /// process group, SIGKILL once it exits or grace_ms later, and RunResult::cancelled is set.
    /// Not owned; it must stay open until run() returns. -1: not cancellable. The processcontainer
    /// backend cannot cancel yet, so Runner::run refuses a cancellable run there.
    int cancel_fd = -1;
};

/// Who failed when the contained command did not run to completion. `none` means `exit_code` is the
/// contained command's own status.
enum class ExecutorFailure : std::uint8_t {
    none,
    config_rejected,      ///< executor refused the config ("Request error")
    backend_error,        ///< executor runner/backend failure ({"error":{...}} or exit 255)
    launch_failed,        ///< the sandbox could not start (e.g. bwrap: Can't find source path)
    backend_unavailable,  ///< executor says this backend is not available on the host
    spawn_failed,         ///< the executor itself could not be started
};

constexpr std::string_view to_string(ExecutorFailure f) noexcept {
    switch (f) {
        case ExecutorFailure::none: return "none";
        case ExecutorFailure::config_rejected: return "config-rejected";
        case ExecutorFailure::backend_error: return "backend-error";
        case ExecutorFailure::launch_failed: return "launch-failed";
        case ExecutorFailure::backend_unavailable: return "backend-unavailable";
        case ExecutorFailure::spawn_failed: return "spawn-failed";
    }
    return "?";
}

struct RunResult {
    int exit_code = -1;            ///< contained command's exit status (or the executor's, see failure)
    int signal = 0;                ///< signal that ended the executor, 0 if it exited
    std::string out;               ///< captured stdout, at most RunOptions::output_limit bytes
    std::string err;               ///< captured stderr, same bound
    std::size_t out_dropped = 0;   ///< stdout bytes beyond the limit, discarded
    std::size_t err_dropped = 0;
    std::uint64_t duration_ms = 0;
    bool timed_out = false;        ///< cordon's own timer fired and the whole tree was killed
    bool cancelled = false;        ///< RunOptions::cancel_fd became readable and the whole tree was killed
    ExecutorFailure failure = ExecutorFailure::none;
    std::string failure_message;   ///< the executor's own words when failure != none
    std::vector<std::string> invocation;  ///< executor argv as launched (or, for a dry run, as it would be)
};

}  // namespace cordon
