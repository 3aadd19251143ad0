// SPDX-License-Identifier: MIT
// cordon: who a POSIX run executes as (RunAs) and the resource limits applied to its whole tree (Limits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cordon {

/// The unprivileged identity the executor (and so the whole sandbox) runs as. The POSIX runner drops
/// every supplementary group, sets the real, effective and saved gid and uid, sets no_new_privs and
/// checks that root cannot be regained before it starts the executor. uid 0 and gid 0 are refused.
struct RunAs {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;

    friend bool operator==(const RunAs& a, const RunAs& b) noexcept { return a.uid == b.uid && a.gid == b.gid; }
    friend bool operator!=(const RunAs& a, const RunAs& b) noexcept { return !(a == b); }
};

/// Resource limits for the executor's whole process tree; each one unset = not limited. POSIX
/// rlimits are inherited by every descendant (lxc-exec, bwrap and the command) and cannot be raised
/// again inside the sandbox (raising needs CAP_SYS_RESOURCE in the host's user namespace).
struct Limits {
    /// RLIMIT_NPROC: processes (threads count too) of the run's *real uid*, host-wide: processes of
    /// the same uid outside this run count as well, so give each concurrent run its own uid, and
    /// never 0 (root is exempt). Also pids.max of the run's cgroup when there is one (the tree only).
    std::optional<std::uint64_t> processes;
    /// RLIMIT_AS: virtual address space per process, in bytes (lxc-exec itself needs about 50 MB).
    std::optional<std::uint64_t> address_space_bytes;
    /// memory.max of a cgroup v2 made for the run: the whole tree's memory, including what it writes
    /// to the sandbox's tmpfs /tmp. Needs a cgroup v2 with the memory controller that the runner can
    /// create a child in (see docs/security-model.md); where there is none the run is refused.
    std::optional<std::uint64_t> memory_bytes;
    /// RLIMIT_CPU: CPU seconds per process; SIGXCPU at the limit, SIGKILL one second later.
    std::optional<std::uint64_t> cpu_seconds;
    /// RLIMIT_FSIZE: largest file a process may write (tmpfs included); beyond it SIGXFSZ / EFBIG.
    std::optional<std::uint64_t> file_size_bytes;
    /// RLIMIT_NOFILE: open descriptors per process (lxc-exec needs about 16).
    std::optional<std::uint64_t> open_files;

    bool empty() const noexcept {
        return !processes && !address_space_bytes && !memory_bytes && !cpu_seconds && !file_size_bytes && !open_files;
    }
    friend bool operator==(const Limits& a, const Limits& b) noexcept {
        return a.processes == b.processes && a.address_space_bytes == b.address_space_bytes &&
               a.memory_bytes == b.memory_bytes && a.cpu_seconds == b.cpu_seconds &&
               a.file_size_bytes == b.file_size_bytes && a.open_files == b.open_files;
    }
    friend bool operator!=(const Limits& a, const Limits& b) noexcept { return !(a == b); }
};

}  // namespace cordon
