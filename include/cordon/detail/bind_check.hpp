// SPDX-License-Identifier: MIT
// cordon: proof from inside the sandbox that each granted path is the file cordon checked, not one
// swapped in (say for a symlink) between the clamp and the executor's mount.
#pragma once

#include <string>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/run_result.hpp"

namespace cordon::detail {

/// The first stderr line of a run that the check stopped.
inline constexpr const char* bind_check_marker = "cordon-bind-check: ";

/// For POSIX-shell executors that mount grants by path (bubblewrap): checks that every path in
/// `grants` is still canonical (no component became a symlink since the clamp) and records what it
/// is (st_dev:st_ino); returns a shell snippet to put before the command line that compares,
/// inside the sandbox, what was mounted at each path with that record, and exits 125 with
/// bind_check_marker on stderr before the command runs when one differs. A bind mount shows its
/// source's device and inode, so a path swapped before the mount shows another one. Empty when
/// there are no grants. Errors: invalid-policy naming a grant that is gone or no longer canonical.
CORDON_FUNC Result<std::string> bind_check_prefix(const std::vector<std::string>& grants);

/// Turns a run the check stopped into an executor-side failure (launch_failed) with its message.
inline void classify_bind_check(RunResult& r) {
    if (r.failure != ExecutorFailure::none || r.exit_code != 125 || r.err.rfind(bind_check_marker, 0) != 0) return;
    r.failure = ExecutorFailure::launch_failed;
    r.failure_message = r.err.substr(0, r.err.find('\n'));
}

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/bind_check.hpp"
#endif
