// SPDX-License-Identifier: MIT
// cordon processcontainer backend: tell wxc-exec.exe's own failures apart from the contained command's exit.
#pragma once

#include "cordon/run_result.hpp"

namespace cordon::processcontainer {

/// Sets `run.failure` and `run.failure_message` from wxc-exec's exit code and stderr (the rules of
/// ../shared/docs/mxc-contract.md d.3; wxc-exec shares lxc-exec's parser and error conventions, and
/// the shapes were seen under wine with SDK 0.7.0 and 0.9.0). `DACL recovery: ...` lines, which
/// every wxc-exec start may print first, are skipped. A failure already set (spawn_failed) and a
/// run cordon's own timer killed are left alone. First match wins:
///  * exit 1, first line `Request error` (or `Error: No config provided`) -> config_rejected, message:
///    the text after that line;
///  * exit 1, first line `error: the '<x>' backend is not available ...` or (wxc-exec)
///    `Error: Bubblewrap backend not available on Windows` -> backend_unavailable;
///  * exit 1, first line `error: BaseContainer is unavailable; ...` (the dry run's host probe) -> launch_failed;
///  * exit 1 whose stderr ends in an `{"error":{...}}` object (1.0.1's `policy_validation`, before
///    any launch) -> backend_error, message: its `message`;
///  * exit -1 (Rust's exit(-1): 0xFFFFFFFF from GetExitCodeProcess; 255 when seen through wine or
///    a POSIX shell) or 255 -> backend_error, message: `error.message` of the last `{"error":{...}}` object when
///    it ends stderr (appended without a newline), else the last stderr line;
///  * exit 2 with a clap usage message -> backend_error (wxc-exec refused its own command line).
/// `run.started` is `no` for each of these, except an exit -1/255 whose message does not begin
/// `Initialization error` (the container set-up, before any launch): `maybe`.
/// Anything else is the contained command's own exit code. The contained command shares the
/// streams and could imitate these shapes, but the exit code must match too, so an imitation can
/// only make a failing command look like a failing executor, never the reverse.
void classify_executor_output(RunResult& run);

}  // namespace cordon::processcontainer
