// SPDX-License-Identifier: MIT
// cordon: how a run is asked for (RunOptions) and what it reports (RunResult), on every backend.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/run_limits.hpp"

namespace cordon {

/// How the MXC config reaches the executor. argv is readable by every local user
/// (/proc/PID/cmdline, Windows process listings), and a file on a shared path can be swapped by
/// anyone who can write there (a concurrent sandbox granted TMPDIR), so the default is a descriptor.
enum class ConfigDelivery : std::uint8_t {
    file,        ///< a private 0600 file in a 0700 directory (`--config PATH`), removed afterwards
    base64,      ///< `--config-base64` in argv: visible to local users
    /// POSIX: `--config /dev/fd/N` of a sealed memfd (Linux) or of an already unlinked private file;
    /// nothing on a shared path to swap. Windows: the private file (no descriptor can be passed).
    descriptor,
};

/// Where the command's standard input comes from, and whether it runs on a terminal.
enum class StdinMode : std::uint8_t {
    null,  ///< /dev/null
    /// A pipe the runner fills from RunOptions::stdin_fd until EOF. The command never holds
    /// stdin_fd itself (it may be the operator's terminal, or a file opened for writing).
    pass,
    /// A pseudo-terminal of the run's own (POSIX): it is the executor's controlling terminal and its
    /// stdin, stdout and stderr; the runner copies stdin_fd to it and its output to stdout_fd, with no
    /// output cap (docs/cli.md, "Interactive use"). stderr_fd is unused.
    interactive,
};

template <>
struct EnumNames<ConfigDelivery> {
    static constexpr std::array<EnumName<ConfigDelivery>, 3> table{{
        {"file", ConfigDelivery::file}, {"base64", ConfigDelivery::base64}, {"descriptor", ConfigDelivery::descriptor}}};
};
template <>
struct EnumNames<StdinMode> {
    static constexpr std::array<EnumName<StdinMode>, 3> table{{
        {"null", StdinMode::null}, {"pass", StdinMode::pass}, {"interactive", StdinMode::interactive}}};
};

/// What RunOptions::keep_streamed_output = false still keeps of a streamed stream.
inline constexpr std::size_t streamed_head_bytes = std::size_t{64} << 10;

struct RunOptions {
    ConfigDelivery delivery = ConfigDelivery::descriptor;
    std::uint32_t grace_ms = 2000;          ///< after the timeout: SIGTERM -> SIGKILL delay, then the drain bound
    /// Bytes kept per stream (stdout, stderr) in RunResult; the rest is counted and dropped. Also
    /// bounds what reaches stdout_fd / stderr_fd, except in StdinMode::interactive.
    std::size_t output_limit = 1u << 20;
    bool dry_run = false;                   ///< spawn nothing: only report the invocation that would run
    /// POSIX: a descriptor that becomes readable when the run is to be cancelled (the read end of a
    /// pipe, an eventfd). The run then ends as on a timeout: SIGTERM and SIGCONT to the executor's
    /// process group, SIGKILL once it exits or grace_ms later, and RunResult::cancelled is set.
    /// Not owned; it must stay open until run() returns. -1: not cancellable. The processcontainer
    /// backend cannot cancel yet, so Runner::run refuses a cancellable run there.
    int cancel_fd = -1;

    // The descriptors below belong to the caller, are not owned, must stay open until run() returns,
    // and are POSIX only (Runner::run refuses them on processcontainer). The runner never changes
    // their flags (no O_NONBLOCK on a shared terminal); it polls before each read and write.
    StdinMode stdin_mode = StdinMode::null;
    int stdin_fd = -1;   ///< pass / interactive: read until EOF (-1 with interactive: no input)
    /// Streaming sinks: output is copied here as it arrives, per stream in order, within
    /// output_limit, while RunResult keeps the same bytes. A sink that breaks (EPIPE) stops being
    /// written and the command's pipe is closed, so the command sees the broken pipe too. -1: none.
    /// The executor's own closing `{"error":...}` object (after a timeout or a failure, which
    /// RunResult reports) is not streamed to stderr_fd: text that could be it is held back (at
    /// most 4 KiB) until more follows or the run ends; RunResult::err keeps it.
    int stdout_fd = -1;
    int stderr_fd = -1;
    /// false: of stdout when it goes to a sink (stdout_fd, or the terminal), RunResult keeps only
    /// the first streamed_head_bytes instead of output_limit bytes: a caller that streams need not
    /// hold every byte twice (`cordon run` holds ~64 KiB on a 200 MB flood, not ~6 x
    /// output_limit). Of stderr going to a sink the runner also keeps the last streamed_head_bytes
    /// while the run lasts (the executor's closing messages, from which it classifies its
    /// failures, come after what the workload printed there); RunResult keeps the head.
    /// out_dropped/err_dropped still count what was beyond output_limit.
    bool keep_streamed_output = true;

    /// POSIX: run the executor as this uid/gid (supplementary groups dropped). Required when the
    /// calling process has euid 0: the runner refuses to start the executor as root. Without root
    /// it must be absent or the caller's own ids (nothing else can be switched to).
    std::optional<RunAs> run_as;
    /// POSIX: resource limits for the executor's whole tree (run_limits.hpp); empty = none.
    Limits limits;
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

template <>
struct EnumNames<ExecutorFailure> {
    static constexpr std::array<EnumName<ExecutorFailure>, 6> table{{
        {"none", ExecutorFailure::none},
        {"config-rejected", ExecutorFailure::config_rejected},
        {"backend-error", ExecutorFailure::backend_error},
        {"launch-failed", ExecutorFailure::launch_failed},
        {"backend-unavailable", ExecutorFailure::backend_unavailable},
        {"spawn-failed", ExecutorFailure::spawn_failed},
    }};
};

/// Whether the contained command started. The executor's failure kind alone does not say: lxc-exec
/// exits 255 both when it refuses before anything runs and when its network setup fails after the
/// sandbox was built, and then the workload usually runs to completion anyway (with the network
/// closed, but with its file side effects: ../shared/docs/mxc-1.0.md 9.1).
enum class CommandStarted : std::uint8_t {
    yes,    ///< it ran: `exit_code` is its status (or the run timed out / was cancelled)
    no,     ///< the executor refused or failed before the command could start: none of it ran
    maybe,  ///< the executor failed after the sandbox was set up, or in a way that does not say when:
            ///< the command may have run, partly or fully; do not retry a non-idempotent command blindly
};

template <>
struct EnumNames<CommandStarted> {
    static constexpr std::array<EnumName<CommandStarted>, 3> table{{
        {"yes", CommandStarted::yes}, {"no", CommandStarted::no}, {"maybe", CommandStarted::maybe}}};
};

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
    /// The tree ran in a cgroup v2 of its own (memory.max / pids.max applied to the whole tree);
    /// false: only rlimits (or no limits) applied.
    bool cgroup = false;
    ExecutorFailure failure = ExecutorFailure::none;
    std::string failure_message;   ///< the executor's own words when failure != none
    /// With a failure: whether the command may still have run (the backend tells from the executor's
    /// words). `yes` without a failure.
    CommandStarted started = CommandStarted::yes;
    std::vector<std::string> invocation;  ///< executor argv as launched (or, for a dry run, as it would be)
    /// The MXC config text the executor got (a dry run: would get), as Runner::run emitted and checked
    /// it; Runner::config_for gives the same text without running.
    std::string config;
};

}  // namespace cordon
