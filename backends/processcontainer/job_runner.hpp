// SPDX-License-Identifier: MIT
// cordon processcontainer backend: run one process tree inside a Job Object with bounded output and time. Windows only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "cordon/error.hpp"

namespace cordon::processcontainer::win {

/// Exit code cordon gives the tree when its own timeout kills it (ERROR_TIMEOUT).
inline constexpr std::uint32_t timeout_exit_code = 1460;

struct LaunchSpec {
    std::wstring application;                 ///< absolute path of the program (never searched for)
    std::wstring command_line;                ///< full command line, argv[0] included (MSVCRT quoting)
    std::optional<std::wstring> environment;  ///< NUL-separated block ending in two NULs; nullopt = inherit
    std::optional<std::wstring> cwd;          ///< nullopt = ours
    std::uint32_t timeout_ms = 0;             ///< wall clock from resume to kill; 0 = none
    std::uint32_t grace_ms = 2000;            ///< bound on draining the pipes after the tree is gone
    std::size_t output_limit = std::size_t{1} << 20;  ///< bytes kept per stream
};

struct LaunchOutcome {
    std::optional<std::string> spawn_error;  ///< CreateProcessW failed (nothing ran); the rest is empty
    std::uint32_t exit_code = 0;             ///< the direct child's exit code
    std::string out, err;
    std::size_t out_dropped = 0, err_dropped = 0;
    bool timed_out = false;     ///< the timeout fired and the whole job was terminated
    bool drain_forced = false;  ///< a reader was still blocked after the bound and was cancelled
    std::uint64_t duration_ms = 0;
};

/// Starts `spec.application` suspended, assigns it to a new Job Object (KILL_ON_JOB_CLOSE,
/// DIE_ON_UNHANDLED_EXCEPTION) and only then resumes it, so it and every descendant belong to the
/// job from their first instruction. Inherited handles are exactly stdin (NUL), stdout and stderr
/// (pipes), by PROC_THREAD_ATTRIBUTE_HANDLE_LIST. One reader thread per pipe keeps up to
/// `output_limit` bytes and counts the rest.
///
/// When the child exits (or the timeout fires) the whole job is terminated: anything still in it is
/// an orphan of the executor (one such grandchild once held the pipes for 26 minutes). Bytes written
/// before that stay readable in the pipes. The pipes are then drained for at most `grace_ms`; a
/// reader still blocked (a handle leaked outside the job) is cancelled with CancelSynchronousIo, not
/// waited for. So run returns within timeout + grace + a few milliseconds.
/// Errors: execution_failed when the job, pipes or threads cannot be set up (nothing is left
/// running); a failed CreateProcessW is reported in `spawn_error` instead.
Result<LaunchOutcome> run_in_job(const LaunchSpec& spec);

}  // namespace cordon::processcontainer::win
