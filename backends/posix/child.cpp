// SPDX-License-Identifier: MIT
// cordon POSIX runner: the forked child, which makes only async-signal-safe system calls until exec.
#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <cstring>

#if defined(__linux__) && !defined(CLOSE_RANGE_CLOEXEC)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace cordon::posix {

const char* stage_text(Stage s) {
    switch (s) {
        case Stage::session: return "setsid";
        case Stage::terminal: return "ioctl(TIOCSCTTY) on the run's pseudo-terminal";
        case Stage::cgroup: return "joining the run's cgroup";
        case Stage::limits: return "setrlimit";
        case Stage::groups: return "setgroups (dropping supplementary groups)";
        case Stage::gid: return "setting the gid";
        case Stage::uid: return "setting the uid";
        case Stage::regain: return "checking that root cannot be regained";
        case Stage::no_new_privs: return "prctl(PR_SET_NO_NEW_PRIVS)";
        case Stage::pdeathsig: return "prctl(PR_SET_PDEATHSIG)";
        case Stage::stdio: return "dup2 of stdin/stdout/stderr";
        case Stage::descriptors: return "closing inherited descriptors";
        case Stage::chdir: return "chdir";
        case Stage::exec: return "exec";
    }
    return "?";
}

namespace {

#if defined(__linux__)
struct LinuxDirent64 {  // the kernel's record for getdents64
    std::uint64_t d_ino;
    std::int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];
};

// Fallback for kernels without close_range(CLOEXEC) (< 5.11): walk /proc/self/fd with raw
// getdents64 (opendir would allocate). Returns false when /proc is unavailable.
CORDON_CHILD_CODE bool cloexec_from_proc() noexcept {
    int dir = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir < 0) return false;
    alignas(8) char buf[4096];
    for (;;) {
        long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
            int fd = 0;
            bool number = d->d_name[0] != '\0';
            for (const char* c = d->d_name; *c; ++c) {
                if (*c < '0' || *c > '9') { number = false; break; }
                fd = fd * 10 + (*c - '0');
            }
            if (number && fd > 2 && fd != dir) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            off += d->d_reclen;
        }
    }
    ::close(dir);
    return true;
}
#endif

// Marks every descriptor above 2 close-on-exec, then lets the kept ones (the config) through.
// CLOEXEC rather than close: the report pipe and the executor descriptor must stay usable until
// the exec itself.
CORDON_CHILD_CODE bool descriptors_for_exec(const ChildPlan& p) noexcept {
    bool marked = false;
#if defined(__linux__) && defined(SYS_close_range)
    marked = ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
#endif
#if defined(__linux__)
    if (!marked) marked = cloexec_from_proc();
#endif
    if (!marked)
        for (int fd = 3; fd <= p.max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    for (int fd : p.keep_fds)
        if (fd > 2 && ::fcntl(fd, F_SETFD, 0) != 0) return false;
    return true;
}

// Records the failing stage for the report; errno stays as the failing call left it.
CORDON_CHILD_CODE bool stop_at(Stage& failed, Stage stage) noexcept {
    failed = stage;
    return false;
}

// setgroups, then gid, then uid (the uid last: afterwards nothing else may be changed), then the
// proof that the way back is closed: root cannot be regained, and no id or group is left over.
CORDON_CHILD_CODE bool switch_identity(const ChildPlan& p, Stage& failed) noexcept {
#if defined(__linux__)
    // Raw system calls: only this thread exists in the child, and glibc's wrappers would try to
    // signal the parent's other threads (which the child does not have) to change them too.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) return stop_at(failed, Stage::groups);
    if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) return stop_at(failed, Stage::gid);
    if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) return stop_at(failed, Stage::uid);
    if (::syscall(SYS_setresuid, 0, 0, 0) == 0) { errno = EPERM; return stop_at(failed, Stage::regain); }
    uid_t r = 0, e = 0, s = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    if (::syscall(SYS_getresuid, &r, &e, &s) != 0 || r != p.uid || e != p.uid || s != p.uid ||
        ::syscall(SYS_getresgid, &rg, &eg, &sg) != 0 || rg != p.gid || eg != p.gid || sg != p.gid ||
        ::syscall(SYS_getgroups, 0, nullptr) != 0)
        { errno = EPERM; return stop_at(failed, Stage::regain); }
#else
    if (::setgroups(0, nullptr) != 0) return stop_at(failed, Stage::groups);
    if (::setgid(p.gid) != 0) return stop_at(failed, Stage::gid);
    if (::setuid(p.uid) != 0) return stop_at(failed, Stage::uid);
    if (::setuid(0) == 0 || ::getuid() != p.uid || ::geteuid() != p.uid || ::getgid() != p.gid ||
        ::getegid() != p.gid)
        { errno = EPERM; return stop_at(failed, Stage::regain); }
#endif
    return true;
}

CORDON_CHILD_CODE void default_signals() noexcept {
    // Ignored signals survive exec; give the executor default dispositions and an empty mask
    // (the parent blocked everything around fork so no handler of its runs here).
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        if (::sigaction(sig, nullptr, &sa) != 0 || sa.sa_handler == SIG_DFL) continue;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        ::sigaction(sig, &sa, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Identity-related stages: session and terminal first (setsid needs nothing), the cgroup and
// limits while still privileged, then the switch. Returns false with `failed` set.
CORDON_CHILD_CODE bool confine(const ChildPlan& p, Stage& failed) noexcept {
    // A new session, not only a group: no controlling terminal, so the executor's tree cannot
    // open /dev/tty or push input (TIOCSTI) into the operator's terminal; it leads the session's
    // only process group, so the whole tree can still be signalled at once.
    if (::setsid() < 0) return stop_at(failed, Stage::session);
    if (p.ctty_fd >= 0 && ::ioctl(p.ctty_fd, TIOCSCTTY, 0) != 0) return stop_at(failed, Stage::terminal);
    // Writing "0" moves the writer; the permission check uses the opener's (the parent's) rights.
    if (p.cgroup_procs_fd >= 0 && ::write(p.cgroup_procs_fd, "0", 1) != 1) return stop_at(failed, Stage::cgroup);
    for (int i = 0; i < p.limit_count; ++i) {
        struct rlimit rl{p.limits[i].soft, p.limits[i].hard};
        if (::setrlimit(p.limits[i].resource, &rl) != 0) return stop_at(failed, Stage::limits);
    }
    if (p.switch_ids) {
        if (!switch_identity(p, failed)) return false;
#if defined(__linux__)
        // No setuid/file-capability binary run by the executor's tree can make it root again.
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return stop_at(failed, Stage::no_new_privs);
#endif
    }
#if defined(__linux__)
    // SIGKILL when the forking thread dies; run_process keeps that thread blocked until reaped.
    // After the identity switch: changing credentials clears the parent-death signal.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return stop_at(failed, Stage::pdeathsig);
    if (::getppid() != p.parent) ::_exit(127);  // the parent died before prctl took effect
#endif
    return true;
}

[[noreturn]] CORDON_CHILD_CODE void report_and_exit(const ChildPlan& p, Stage stage) noexcept {
    ChildReport r{static_cast<int>(stage), errno};
    ssize_t ignored = ::write(p.report_fd, &r, sizeof r);
    (void)ignored;
    ::_exit(127);
}

}  // namespace

[[noreturn]] CORDON_CHILD_CODE void child_main(const ChildPlan& p) noexcept {
    Stage failed = Stage::session;
    if (!confine(p, failed)) report_and_exit(p, failed);
    if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.stdout_fd, 1) < 0 || ::dup2(p.stderr_fd, 2) < 0)
        report_and_exit(p, Stage::stdio);
    if (!descriptors_for_exec(p)) report_and_exit(p, Stage::descriptors);
    if (p.cwd && ::chdir(p.cwd) != 0) report_and_exit(p, Stage::chdir);
    default_signals();

#if defined(__linux__)
    if (p.exec_fd >= 0) {
#if defined(SYS_execveat)
        ::syscall(SYS_execveat, p.exec_fd, "", p.argv, p.envp, AT_EMPTY_PATH);
        if (errno == ENOSYS)
#endif
            ::fexecve(p.exec_fd, p.argv, p.envp);  // glibc falls back to /proc/self/fd/N
        report_and_exit(p, Stage::exec);
    }
#endif
    ::execve(p.exec_path, p.argv, p.envp);
    report_and_exit(p, Stage::exec);
    ::_exit(127);
}

}  // namespace cordon::posix
