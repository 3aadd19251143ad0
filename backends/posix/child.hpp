// SPDX-License-Identifier: MIT
// cordon POSIX runner: what the forked child does before exec, from a plan built before fork.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

// The child may run on a stack of its own inside our memory (start_child in posix_runner.cpp):
// AddressSanitizer must not instrument it, or the frames it never returns from (it execs) stay
// poisoned in the shadow memory we share, and its no-return hook warns about the unknown stack.
#if defined(__SANITIZE_ADDRESS__)
#define CORDON_CHILD_CODE __attribute__((no_sanitize("address")))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORDON_CHILD_CODE __attribute__((no_sanitize("address")))
#endif
#endif
#if !defined(CORDON_CHILD_CODE)
#define CORDON_CHILD_CODE
#endif

namespace cordon::posix {

/// The steps of the child, in order; a failing step is reported to the parent with errno.
enum class Stage : int {
    session = 1,  ///< setsid()
    terminal,     ///< TIOCSCTTY: the run's pseudo-terminal becomes the controlling terminal
    cgroup,       ///< joining the run's cgroup
    limits,       ///< setrlimit
    groups,       ///< setgroups(0, NULL)
    gid,          ///< setresgid / setgid
    uid,          ///< setresuid / setuid
    regain,       ///< root could be regained after the switch: refused
    no_new_privs, ///< prctl(PR_SET_NO_NEW_PRIVS)
    pdeathsig,    ///< prctl(PR_SET_PDEATHSIG)
    stdio,        ///< dup2 onto 0, 1, 2
    descriptors,  ///< marking inherited descriptors close-on-exec
    chdir,
    exec,
};

const char* stage_text(Stage s);

/// What the child writes to the report pipe when a stage fails (then it exits 127).
struct ChildReport {
    int stage = 0;
    int error = 0;
};

/// One rlimit to set (soft and hard), computed before fork.
struct ChildLimit {
    int resource = 0;
    rlim_t soft = 0, hard = 0;
};

/// Everything the child needs, as raw pointers and numbers prepared before fork: after fork the
/// child may only make async-signal-safe calls (no allocation, no locks).
struct ChildPlan {
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;        ///< nullptr: keep the caller's
    int exec_fd = -1;                 ///< >= 0: launch this descriptor
    const char* exec_path = nullptr;  ///< else this path
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
    int ctty_fd = -1;                 ///< >= 0: make this terminal the controlling terminal after setsid
    int cgroup_procs_fd = -1;         ///< >= 0: cgroup.procs of the run's cgroup, opened by the parent
    int keep_fds[4] = {-1, -1, -1, -1};  ///< inherited across exec at the same number (the config)
    ChildLimit limits[8];
    int limit_count = 0;
    bool switch_ids = false;          ///< drop groups and switch to uid/gid (the caller is root)
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t parent = 0;
    int max_fd = 0;                   ///< last resort for marking descriptors close-on-exec
};

/// Runs in the forked child: new session, terminal, cgroup, limits, identity, descriptors, exec.
/// Never returns; on failure it reports the stage and errno on report_fd and exits 127.
[[noreturn]] CORDON_CHILD_CODE void child_main(const ChildPlan& p) noexcept;

}  // namespace cordon::posix
