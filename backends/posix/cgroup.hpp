// SPDX-License-Identifier: MIT
// cordon POSIX runner: a cgroup v2 of the run's own (memory.max, pids.max) where the host lets us make one.
#pragma once

#include <optional>
#include <string>

#include "cordon/error.hpp"
#include "cordon/run_limits.hpp"
#include "fd.hpp"

namespace cordon::posix {

/// One run's cgroup v2 directory. Where it goes (Linux only):
///  * euid 0: `<cgroup2 mount>/cordon/run-<pid>-<n>`, after enabling the controllers it needs in the
///    mount's root and in `cordon/` (root may; a systemd host has them enabled already);
///  * otherwise a delegated subtree: a sibling of the caller's own cgroup, when the parent
///    directory belongs to the caller and already offers the controllers (systemd `Delegate=yes`,
///    e.g. a `user@UID.service` scope).
/// The child joins it before exec by writing to cgroup.procs through a descriptor the runner
/// opened, so the whole tree is in it from the start. Removed (after cgroup.kill) when destroyed.
class RunCgroup {
public:
    /// A cgroup for `limits` when they need one (memory_bytes or processes) and the host has a
    /// cgroup v2 with those controllers where we may create a child; nullopt when none is available
    /// (then only rlimits apply; Runner refuses memory_bytes then). Errors: io_error when a usable
    /// hierarchy was found but setting the cgroup up failed (never silently weaker).
    static Result<std::optional<RunCgroup>> create(const Limits& limits);

    const std::string& path() const noexcept { return dir_; }
    int procs_fd() const noexcept { return procs_.get(); }
    /// SIGKILLs everything in the cgroup, processes that left the session included (cgroup.kill,
    /// Linux 5.14+); a no-op where the kernel has no cgroup.kill.
    void kill() const noexcept;

    RunCgroup(RunCgroup&& other) noexcept;
    RunCgroup& operator=(RunCgroup&&) = delete;
    RunCgroup(const RunCgroup&) = delete;
    RunCgroup& operator=(const RunCgroup&) = delete;
    ~RunCgroup();

private:
    RunCgroup() = default;
    std::string dir_;
    Fd procs_;
};

/// Why no cgroup could be made here, in words (for the refusal of memory_bytes).
std::string cgroup_unavailable_reason();

}  // namespace cordon::posix
