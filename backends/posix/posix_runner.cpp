// SPDX-License-Identifier: MIT
// cordon POSIX runner: everything is prepared before fork; the child makes only syscalls until exec.
#include "posix_runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>

#if defined(__linux__) && !defined(CLOSE_RANGE_CLOEXEC)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace cordon::posix {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(int err) { return std::generic_category().message(err); }

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset(std::exchange(o.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// A pipe whose both ends are close-on-exec from birth, so a fork in another thread of the
// embedding program never carries them past its exec.
bool make_pipe(Fd& read_end, Fd& write_end) {
    int p[2];
#if defined(__linux__)
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
#else
    if (::pipe(p) != 0) return false;  // no pipe2: a concurrent fork+exec may briefly hold these
    ::fcntl(p[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(p[1], F_SETFD, FD_CLOEXEC);
#endif
    read_end.reset(p[0]);
    write_end.reset(p[1]);
    return true;
}

// The child dup2()s onto 0, 1 and 2; a source that already is one of them (an embedder with a
// closed stdin) would be clobbered, so every descriptor the child needs lives at 3 or above.
bool lift_above_stdio(Fd& fd) {
    if (fd.get() > 2) return true;
    int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (lifted < 0) return false;
    fd.reset(lifted);
    return true;
}

enum class Stage : int { pdeathsig = 1, stdio, descriptors, chdir, exec };

const char* stage_text(Stage s) {
    switch (s) {
        case Stage::pdeathsig: return "prctl(PR_SET_PDEATHSIG)";
        case Stage::stdio: return "dup2 of stdin/stdout/stderr";
        case Stage::descriptors: return "closing inherited descriptors";
        case Stage::chdir: return "chdir";
        case Stage::exec: return "exec";
    }
    return "?";
}

struct ChildReport {
    int stage = 0;
    int error = 0;
};

// Everything the child needs, as raw pointers into memory the parent prepared before fork.
struct ChildPlan {
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;        // nullptr: keep the caller's
    int exec_fd = -1;                 // >= 0: launch this descriptor
    const char* exec_path = nullptr;  // else this path
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
    pid_t parent = 0;
    int max_fd = 0;  // last resort for marking descriptors close-on-exec
};

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
bool cloexec_from_proc() noexcept {
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

// Marks every descriptor above 2 close-on-exec. CLOEXEC rather than close: the report pipe and
// the executor descriptor must stay usable until the exec itself.
bool cloexec_all_above_stdio(const ChildPlan& p) noexcept {
#if defined(__linux__) && defined(SYS_close_range)
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return true;
#endif
#if defined(__linux__)
    if (cloexec_from_proc()) return true;
#endif
    for (int fd = 3; fd <= p.max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return true;
}

// Runs in the forked child: syscalls only, no allocation, no locks.
[[noreturn]] void child_main(const ChildPlan& p) noexcept {
    auto fail = [&p](Stage stage) {
        ChildReport r{static_cast<int>(stage), errno};
        ssize_t ignored = ::write(p.report_fd, &r, sizeof r);
        (void)ignored;
        ::_exit(127);
    };

    ::setpgid(0, 0);  // leader of a new group, so the whole tree can be signalled at once
#if defined(__linux__)
    // SIGKILL when the forking thread dies; run_process keeps that thread blocked until reaped.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(Stage::pdeathsig);
    if (::getppid() != p.parent) ::_exit(127);  // the parent died before prctl took effect
#endif
    if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.stdout_fd, 1) < 0 || ::dup2(p.stderr_fd, 2) < 0)
        fail(Stage::stdio);
    if (!cloexec_all_above_stdio(p)) fail(Stage::descriptors);
    if (p.cwd && ::chdir(p.cwd) != 0) fail(Stage::chdir);

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

#if defined(__linux__)
    if (p.exec_fd >= 0) {
#if defined(SYS_execveat)
        ::syscall(SYS_execveat, p.exec_fd, "", p.argv, p.envp, AT_EMPTY_PATH);
        if (errno == ENOSYS)
#endif
            ::fexecve(p.exec_fd, p.argv, p.envp);  // glibc falls back to /proc/self/fd/N
        fail(Stage::exec);
    }
#endif
    ::execve(p.exec_path, p.argv, p.envp);
    fail(Stage::exec);
    ::_exit(127);
}

// One captured stream: the first `limit` bytes are kept, the rest counted and discarded.
struct Capture {
    Fd fd;
    std::string* data = nullptr;
    std::size_t* dropped = nullptr;
    std::size_t limit = 0;

    bool open() const { return static_cast<bool>(fd); }

    // Doubling, but never past the limit: reserve() on a non-empty libstdc++ string may round a
    // small step up to twice the old capacity, so the bytes move into a fresh, exact buffer.
    void grow(std::size_t capacity) {
        std::string fresh;
        fresh.reserve(capacity);
        fresh.append(*data);
        data->swap(fresh);
    }

    // Reads once; closes the stream on EOF or error. False when nothing was there to read.
    bool read_some() {
        char buf[65536];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
        if (n <= 0) {
            fd.reset();
            return false;
        }
        auto got = static_cast<std::size_t>(n);
        std::size_t keep = std::min(got, limit - std::min(limit, data->size()));
        if (keep > 0) {
            if (data->size() + keep > data->capacity())
                grow(std::min(limit, std::max(data->size() + keep, data->capacity() * 2)));
            data->append(buf, keep);
        }
        *dropped += got - keep;
        return true;
    }
};

// True once `pid` has exited; it stays a zombie (WNOWAIT), so its process group ID stays
// reserved and kill(-pid, ...) can never reach an unrelated group that reused the number.
bool has_exited(pid_t pid, int pidfd, short revents) {
    if (pidfd >= 0) return (revents & POLLIN) != 0;
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
    return info.si_pid != 0;
}

int open_pidfd(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        return static_cast<int>(fd);
    }
#else
    (void)pid;
#endif
    return -1;  // fall back to polling waitid every few milliseconds
}

// Processes (other than us) that still hold one of the given pipes, for the report. Linux only;
// it sees only processes /proc lets us inspect (our own user's, or all as root).
std::vector<int> pipe_holders(const std::vector<int>& read_fds) {
    std::vector<int> pids;
#if defined(__linux__)
    std::vector<std::string> targets;
    for (int fd : read_fds) {
        struct stat st;
        if (::fstat(fd, &st) == 0) targets.push_back("pipe:[" + std::to_string(st.st_ino) + "]");
    }
    if (targets.empty()) return pids;
    DIR* proc = ::opendir("/proc");
    if (!proc) return pids;
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (!end || *end != '\0' || pid <= 0 || pid == self) continue;
        std::string fd_dir = std::string("/proc/") + e->d_name + "/fd";
        DIR* fds = ::opendir(fd_dir.c_str());
        if (!fds) continue;
        bool holds = false;
        while (dirent* f = ::readdir(fds)) {
            if (f->d_name[0] == '.') continue;
            char link[64];
            ssize_t n = ::readlinkat(::dirfd(fds), f->d_name, link, sizeof link - 1);
            if (n <= 0) continue;
            link[n] = '\0';
            if (std::find(targets.begin(), targets.end(), link) != targets.end()) { holds = true; break; }
        }
        ::closedir(fds);
        if (holds) pids.push_back(static_cast<int>(pid));
    }
    ::closedir(proc);
#else
    (void)read_fds;
#endif
    return pids;
}

Error spec_error(std::string message, std::string where = {}) {
    return make_error(ErrorCode::execution_failed, std::move(message), std::move(where));
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

std::optional<Error> validate(const SpawnSpec& spec) {
    if (spec.argv.empty()) return spec_error("argv is empty", "argv");
    for (std::size_t i = 0; i < spec.argv.size(); ++i)
        if (has_nul(spec.argv[i])) return spec_error("argument contains a NUL byte", "argv[" + std::to_string(i) + "]");
    for (std::size_t i = 0; i < spec.env.size(); ++i) {
        const auto& kv = spec.env[i];
        auto eq = kv.find('=');
        if (has_nul(kv) || eq == std::string::npos || eq == 0)
            return spec_error("environment entry is not KEY=VALUE without NUL bytes", "env[" + std::to_string(i) + "]");
    }
    if (has_nul(spec.cwd)) return spec_error("working directory contains a NUL byte", "cwd");
    if (has_nul(spec.executor_path)) return spec_error("executor path contains a NUL byte", "executor_path");
    if (spec.executor_fd < 0 && spec.executor_path.empty())
        return spec_error("neither an executor descriptor nor a path was given", "executor_path");
    if (spec.executor_fd >= 0 && ::fcntl(spec.executor_fd, F_GETFD) < 0)
        return spec_error("executor descriptor " + std::to_string(spec.executor_fd) + " is not open", "executor_fd");
    if (spec.options.cancel_fd >= 0 && ::fcntl(spec.options.cancel_fd, F_GETFD) < 0)
        return spec_error("cancel descriptor " + std::to_string(spec.options.cancel_fd) + " is not open", "cancel_fd");
    // With SIGCHLD ignored the kernel reaps children itself: no exit status could be collected.
    struct sigaction chld;
    if (::sigaction(SIGCHLD, nullptr, &chld) == 0 &&
        (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT) != 0))
        return spec_error("SIGCHLD is ignored (or SA_NOCLDWAIT is set) in this process, so the executor's exit "
                          "status cannot be collected; restore its default disposition");
    return std::nullopt;
}

std::string describe_executor(const SpawnSpec& spec) {
    if (!spec.executor_path.empty()) return spec.executor_path;
    return "descriptor " + std::to_string(spec.executor_fd);
}

}  // namespace

Result<ProcessResult> run_process(const SpawnSpec& spec) {
    if (auto bad = validate(spec)) return *bad;

    // --- everything the child touches is built here, before fork ---
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& kv : spec.env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);

    Fd exec_fd;
    const char* exec_path = spec.executor_path.c_str();
#if defined(__linux__)
    if (spec.executor_fd >= 0) {
        exec_fd.reset(::fcntl(spec.executor_fd, F_DUPFD_CLOEXEC, 3));  // private copy, never 0..2
        if (!exec_fd) return spec_error("cannot duplicate the executor descriptor: " + errno_text(errno), "executor_fd");
    }
#else
    // No execveat/fexecve here: run the path, but only while it still names the verified file.
    if (spec.executor_fd >= 0) {
        struct stat verified, current;
        if (spec.executor_path.empty() || ::fstat(spec.executor_fd, &verified) != 0 ||
            ::stat(exec_path, &current) != 0 || verified.st_dev != current.st_dev || verified.st_ino != current.st_ino)
            return spec_error("the executor path no longer names the verified file", spec.executor_path);
    }
#endif

    Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!dev_null) return spec_error("cannot open /dev/null: " + errno_text(errno), "/dev/null");
    Fd out_r, out_w, err_r, err_w, report_r, report_w;
    if (!make_pipe(out_r, out_w) || !make_pipe(err_r, err_w) || !make_pipe(report_r, report_w))
        return spec_error("cannot create pipes: " + errno_text(errno));
    if (!lift_above_stdio(dev_null) || !lift_above_stdio(out_w) || !lift_above_stdio(err_w) ||
        !lift_above_stdio(report_w))
        return spec_error("cannot move descriptors above 2: " + errno_text(errno));

    ChildPlan plan;
    plan.argv = argv.data();
    plan.envp = envp.data();
    plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
    plan.exec_fd = exec_fd.get();
    plan.exec_path = exec_path;
    plan.stdin_fd = dev_null.get();
    plan.stdout_fd = out_w.get();
    plan.stderr_fd = err_w.get();
    plan.report_fd = report_w.get();
    plan.parent = ::getpid();
    struct rlimit nofile;
    plan.max_fd = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                      ? static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20))
                      : 1 << 16;

    ProcessResult result;
    RunResult& run = result.run;
    const std::size_t limit = spec.options.output_limit;

    sigset_t all, saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved);
    const auto start = Clock::now();
    pid_t pid = ::fork();
    if (pid == 0) child_main(plan);
    int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) return spec_error("fork failed: " + errno_text(fork_errno));

    ::setpgid(pid, pid);  // also from here, so the group exists before any kill(-pid, ...)
    out_w.reset();
    err_w.reset();
    report_w.reset();
    dev_null.reset();
    exec_fd.reset();
    ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);
    Fd pidfd(open_pidfd(pid));

    Capture out{std::move(out_r), &run.out, &run.out_dropped, limit};
    Capture err{std::move(err_r), &run.err, &run.err_dropped, limit};
    ChildReport report;
    std::size_t report_bytes = 0;
    auto read_report = [&] {
        if (!report_r) return;
        auto* dst = reinterpret_cast<char*>(&report) + report_bytes;
        ssize_t n = ::read(report_r.get(), dst, sizeof report - report_bytes);
        if (n > 0) report_bytes += static_cast<std::size_t>(n);
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) report_r.reset();
        if (report_bytes == sizeof report) report_r.reset();
    };

    // --- wait: read both streams, watch the clock and the child ---
    enum class Phase { running, terminating, killed } phase = Phase::running;
    std::optional<Clock::time_point> timeout_at;
    if (spec.timeout_ms > 0) timeout_at = start + milliseconds(spec.timeout_ms);
    Clock::time_point kill_at{}, drain_until{};
    bool exited = false;
    bool cancel_requested = false;  // cancel_fd became readable (set by the poll below)
    auto kill_group = [pid](int sig) { ::kill(-pid, sig); };
    // A timeout and a cancellation end the run the same way; only the flag that says why differs.
    auto terminate = [&](Clock::time_point now, bool& why) {
        why = true;
        kill_group(SIGTERM);
        kill_group(SIGCONT);  // a stopped process would otherwise hold SIGTERM until SIGKILL
        phase = Phase::terminating;
        kill_at = now + milliseconds(spec.options.grace_ms);
    };

    for (;;) {
        auto now = Clock::now();
        if (phase == Phase::running && !exited && cancel_requested) terminate(now, run.cancelled);
        if (phase == Phase::running && timeout_at && now >= *timeout_at) terminate(now, run.timed_out);
        // Once the child is gone (or the grace period is over), nothing of its group may stay.
        if ((phase == Phase::terminating && now >= kill_at) || (exited && phase != Phase::killed)) {
            kill_group(SIGKILL);
            phase = Phase::killed;
            drain_until = now + milliseconds(spec.drain_ms);
        }
        if (exited && !out.open() && !err.open()) break;
        if (phase == Phase::killed && now >= drain_until) break;

        std::optional<Clock::time_point> wake;
        if (phase == Phase::running) wake = timeout_at;
        else wake = phase == Phase::terminating ? kill_at : drain_until;
        int wait_ms = -1;
        if (wake) {
            auto left = std::chrono::ceil<milliseconds>(*wake - now).count();
            wait_ms = static_cast<int>(std::clamp<decltype(left)>(left, 0, 1 << 30));
        }
        if (!exited && !pidfd) wait_ms = wait_ms < 0 ? 10 : std::min(wait_ms, 10);

        pollfd fds[5];
        nfds_t n = 0;
        int out_i = -1, err_i = -1, report_i = -1, pid_i = -1, cancel_i = -1;
        if (out.open()) { out_i = static_cast<int>(n); fds[n++] = {out.fd.get(), POLLIN, 0}; }
        if (err.open()) { err_i = static_cast<int>(n); fds[n++] = {err.fd.get(), POLLIN, 0}; }
        if (report_r) { report_i = static_cast<int>(n); fds[n++] = {report_r.get(), POLLIN, 0}; }
        if (!exited && pidfd) { pid_i = static_cast<int>(n); fds[n++] = {pidfd.get(), POLLIN, 0}; }
        // Watched only while running: a readable descriptor stays readable, and polling it in the
        // later phases would spin.
        if (phase == Phase::running && !exited && spec.options.cancel_fd >= 0) {
            cancel_i = static_cast<int>(n);
            fds[n++] = {spec.options.cancel_fd, POLLIN, 0};
        }
        if (::poll(fds, n, wait_ms) < 0) {
            if (errno == EINTR) continue;
            int poll_errno = errno;
            kill_group(SIGKILL);
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            return spec_error("poll failed: " + errno_text(poll_errno));
        }
        const short ready = POLLIN | POLLHUP | POLLERR;
        if (out_i >= 0 && (fds[out_i].revents & ready)) out.read_some();
        if (err_i >= 0 && (fds[err_i].revents & ready)) err.read_some();
        if (report_i >= 0 && (fds[report_i].revents & ready)) read_report();
        if (!exited) exited = has_exited(pid, pidfd.get(), pid_i >= 0 ? fds[pid_i].revents : 0);
        if (cancel_i >= 0 && (fds[cancel_i].revents & (ready | POLLNVAL))) cancel_requested = true;
    }

    // --- stop: take what is already buffered (bounded: a live writer could refill forever),
    // note who still holds the pipes, reap the child ---
    for (Capture* c : {&out, &err})
        for (int i = 0; i < 16 && c->open() && c->read_some(); ++i) {}
    if (out.open() || err.open()) {
        result.output_held_open = true;
        std::vector<int> open_fds;
        if (out.open()) open_fds.push_back(out.fd.get());
        if (err.open()) open_fds.push_back(err.fd.get());
        result.holder_pids = pipe_holders(open_fds);
        result.incident = "stdout/stderr were still held open " + std::to_string(spec.drain_ms) +
                          " ms after the process group was killed";
        if (!result.holder_pids.empty()) {
            result.incident += " (held by pid";
            for (int holder : result.holder_pids) result.incident += " " + std::to_string(holder);
            result.incident += ")";
        }
        result.incident += "; stopped reading";
        out.fd.reset();
        err.fd.reset();
    }
    read_report();

    int status = 0;
    pid_t reaped;
    do reaped = ::waitpid(pid, &status, exited ? 0 : WNOHANG);
    while (reaped < 0 && errno == EINTR);
    if (reaped == pid) {
        if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
    } else if (reaped < 0 && errno == ECHILD) {
        if (!result.incident.empty()) result.incident += "; ";
        result.incident += "the executor's exit status was collected elsewhere in this process (a SIGCHLD "
                           "handler or thread calling wait for any child); it is unknown";
    } else {
        result.executor_unreaped = true;
        if (!result.incident.empty()) result.incident += "; ";
        result.incident += "executor pid " + std::to_string(pid) + " did not exit within " +
                           std::to_string(spec.drain_ms) + " ms of SIGKILL and was left unreaped";
    }
    run.duration_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());

    if (report_bytes == sizeof report) {
        auto stage = static_cast<Stage>(report.stage);
        run.exit_code = -1;
        run.failure = ExecutorFailure::spawn_failed;
        run.failure_message = "cannot start " + describe_executor(spec) + ": " + stage_text(stage) + ": " +
                              errno_text(report.error);
        if (stage == Stage::chdir) run.failure_message += " (" + spec.cwd + ")";
        if (stage == Stage::exec && spec.executor_fd >= 0 && report.error == ENOENT)
            run.failure_message += " (a #! script cannot run from a close-on-exec descriptor; the executor must be a binary)";
    }
    return result;
}

}  // namespace cordon::posix
