// SPDX-License-Identifier: MIT
// cordon POSIX runner: start one program without a shell, capture its output, enforce a wall clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cordon/error.hpp"
#include "cordon/run_result.hpp"

namespace cordon::posix {

/// What to start and how long it may take. Nothing of the caller's process leaks into the child
/// except what is named here: no environment, no descriptors beyond 0/1/2 and `keep_fds`, no
/// ignored signals, no controlling terminal.
struct SpawnSpec {
    /// Open descriptor of the verified executor bytes. When >= 0 it is launched with
    /// execveat(fd, "", AT_EMPTY_PATH) (fallback fexecve, i.e. /proc/self/fd/N) and the path is
    /// never opened. The child sees it close-on-exec, which is fine for ELF binaries; a `#!`
    /// script cannot be run this way (its interpreter would need the closed descriptor).
    int executor_fd = -1;
    /// Used when executor_fd < 0 (tests, tools), and in messages.
    std::string executor_path;
    std::vector<std::string> argv;  ///< argv[0] included; must not be empty
    std::vector<std::string> env;   ///< exactly the child's environment, "KEY=VALUE" entries
    std::string cwd;                ///< child's working directory; empty = the caller's
    std::uint32_t timeout_ms = 0;   ///< cordon's own wall clock from the start; 0 = none
    /// Everything but delivery and dry_run (they belong to the executor) is used here: grace_ms,
    /// output_limit, cancel_fd, stdin, the streaming sinks, run_as and limits.
    RunOptions options;
    /// Descriptors the child keeps across exec at the same number (the config as /dev/fd/N); at most 4.
    std::vector<int> keep_fds;
    /// After the process group is SIGKILLed (or the executor exited): how long to keep reading
    /// pipes that a process outside the group still holds open before giving up on them.
    std::uint32_t drain_ms = 250;
};

/// A finished run. `run.failure` is `none` or `spawn_failed`; what the executor's own output means
/// is decided by classify_executor_failure().
struct ProcessResult {
    RunResult run;
    /// stdout/stderr were still open when the drain bound expired: some process that escaped the
    /// process group (setsid/setpgid, or a fork of the embedding program) holds them. Reading
    /// stopped there and output after that point is lost.
    bool output_held_open = false;
    std::vector<int> holder_pids;    ///< Linux: processes of this user holding the pipes at that point
    bool executor_unreaped = false;  ///< the executor outlived SIGKILL by drain_ms (uninterruptible sleep); not reaped
    /// What went wrong while ending the run, in words: the two anomalies above, or an exit status
    /// collected elsewhere in the process (exit_code stays -1). Empty when the run ended cleanly.
    std::string incident;
};

/// Starts `spec.argv` and waits for it. The child starts a new session (so it has no controlling
/// terminal and leads its own process group), joins the run's cgroup and sets the rlimits of
/// `options.limits`, switches to `options.run_as` (when the caller is root), and receives SIGKILL if
/// the calling thread dies (PR_SET_PDEATHSIG; run_process blocks that thread until the child is
/// reaped).
///
/// Input: /dev/null; with StdinMode::pass a pipe fed from `options.stdin_fd`; with
/// StdinMode::interactive a pseudo-terminal of the run's own (its controlling terminal, stdin,
/// stdout and stderr), fed from stdin_fd and copied to `options.stdout_fd` without a cap, while the
/// caller's stdin_fd, when a terminal, is in raw mode.
///
/// Output: both streams are read concurrently; each keeps its first `options.output_limit` bytes
/// and counts the rest in out_dropped/err_dropped while still reading, so the child never blocks
/// on a full pipe and memory stays within the limits. The kept bytes are also written to
/// `options.stdout_fd` / `stderr_fd` as they arrive (never blocking: a slow sink slows the child).
///
/// Ending: when the child exits, whatever is left of its process group (and of its cgroup) is
/// SIGKILLed. When `timeout_ms` expires first, the group gets SIGTERM (and SIGCONT, for stopped
/// members), then SIGKILL once the child exits or `options.grace_ms` later, whichever is first
/// (`run.timed_out` is set). A readable `options.cancel_fd` (checked while the child runs) ends it
/// the same way, with `run.cancelled` set instead. After that SIGKILL the pipes are drained until
/// EOF or for at most `drain_ms` (what is already buffered is always taken), and a sink gets at
/// most grace_ms + drain_ms more to take what waits for it. So run_process returns within
/// timeout_ms + 2 * (grace_ms + drain_ms) (plus scheduling), whatever the child's descendants or
/// the sinks' readers do. Processes that left the session (setsid) are not signalled unless the run has
/// a cgroup: nothing else proves they are ours. The executor is expected to tie its own tree to
/// itself (lxc-exec runs bwrap with --die-with-parent and a PID namespace).
///
/// `run.exit_code` is the exit status, or -1 with `run.signal` set when a signal ended the child.
/// A child that could not be started (exec, chdir, the identity switch or a limit failed) gives
/// failure = spawn_failed with the reason, not an Error.
///
/// Errors: execution_failed when the spec is malformed (empty argv, NUL byte, env entry without
/// `=`, a descriptor that is not open, run_as with uid or gid 0, run_as other than the caller's
/// own ids without root), when the calling process ignores SIGCHLD (no exit status could be
/// collected), or when pipes/fork fail in the caller's process; backend_unsupported when
/// limits.memory_bytes is set and no cgroup v2 can be made here; io_error when setting up the cgroup failed.
Result<ProcessResult> run_process(const SpawnSpec& spec);

/// What RunResult keeps of a stream: all it accepts (up to output_limit), or only the head of one
/// that goes to `sink` when the caller does not want it twice (RunOptions::keep_streamed_output).
std::size_t kept_bytes(const RunOptions& o, int sink);

}  // namespace cordon::posix
