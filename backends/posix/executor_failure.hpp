// SPDX-License-Identifier: MIT
// cordon POSIX runner: tell the MXC executor's own failures apart from the contained command's exit.
#pragma once

#include "cordon/run_result.hpp"

namespace cordon::posix {

/// Sets `run.failure` and `run.failure_message` from the executor's exit status and output, per
/// ../shared/docs/mxc-contract.md d.3 (measured on lxc-exec 0.7.0 and 0.9.0). Leaves a failure
/// that is already set (spawn_failed) alone. Rules, first match wins:
///  * exit 1, first stderr line `Request error` (or `Error: No config provided`) -> config_rejected,
///    message: the lines after it;
///  * exit 1, first stderr line `error: the '<x>' backend is not available ...` -> backend_unavailable;
///  * exit 1, last stderr line `bwrap: ...` (e.g. `Can't find source path`) -> launch_failed;
///  * exit 255 -> backend_error; message: `error.message` of the last `{"error":{...}}` object that
///    ends stderr (0.9.0 appends it to the message without a newline), else the last stderr line
///    (0.7.0), else the dry-run verdict on stdout;
///  * exit 2 with a clap usage message -> backend_error (the executor refused its command line);
///  * killed by a signal that cordon's timeout did not send -> backend_error.
/// `run.started`: `no` for every failure but these: exit 255 is `maybe` (the command may have run)
/// unless the message is one of lxc-exec's refusals before bwrap starts (missing or broken tools,
/// ingress/hostLoopback allow, refused IPv6 blocks and proxy addresses), and `yes` for the executor's
/// timeout; a signal cordon did not send is `maybe`.
/// Anything else is the contained command's own status (failure none). The streams are shared
/// with the contained command, which could imitate these shapes; the exit code is required too,
/// so an imitation can only make a failing command look like a failing executor.
void classify_executor_failure(RunResult& run);

}  // namespace cordon::posix
