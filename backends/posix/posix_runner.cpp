// SPDX-License-Identifier: MIT
// cordon POSIX runner: everything is prepared before fork; the parent then supervises and reaps.
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
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#endif

// ThreadSanitizer and MemorySanitizer track every thread's stack and cannot follow a clone()
// child on ours, so they fork. AddressSanitizer builds clone too, with the child's code left
// uninstrumented (CORDON_CHILD_CODE); the stack is unpoisoned after it anyway, in case a libc
// interceptor marked part of it.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_MEMORY__)
#define CORDON_POSIX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CORDON_POSIX_SANITIZED 1
#endif
#endif
#if !defined(CORDON_POSIX_SANITIZED)
#define CORDON_POSIX_SANITIZED 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CORDON_POSIX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORDON_POSIX_ASAN 1
#endif
#endif
#if defined(CORDON_POSIX_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "cgroup.hpp"
#include "child.hpp"
#include "fd.hpp"
#include "streams.hpp"
#include "terminal.hpp"

namespace cordon::posix {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Error spec_error(std::string message, std::string where = {}) {
    return make_error(ErrorCode::execution_failed, std::move(message), std::move(where));
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

bool is_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0; }

std::optional<Error> validate_descriptors(const SpawnSpec& spec) {
    const RunOptions& o = spec.options;
    if (spec.executor_fd >= 0 && !is_open(spec.executor_fd))
        return spec_error("executor descriptor " + std::to_string(spec.executor_fd) + " is not open", "executor_fd");
    if (o.cancel_fd >= 0 && !is_open(o.cancel_fd))
        return spec_error("cancel descriptor " + std::to_string(o.cancel_fd) + " is not open", "cancel_fd");
    if (o.stdin_mode == StdinMode::pass && !is_open(o.stdin_fd))
        return spec_error("stdin mode pass needs an open stdin_fd (" + std::to_string(o.stdin_fd) + ")", "stdin_fd");
    if (o.stdin_mode != StdinMode::null && o.stdin_fd >= 0 && !is_open(o.stdin_fd))
        return spec_error("stdin descriptor " + std::to_string(o.stdin_fd) + " is not open", "stdin_fd");
    if (o.stdout_fd >= 0 && !is_open(o.stdout_fd))
        return spec_error("stdout sink " + std::to_string(o.stdout_fd) + " is not open", "stdout_fd");
    if (o.stderr_fd >= 0 && !is_open(o.stderr_fd))
        return spec_error("stderr sink " + std::to_string(o.stderr_fd) + " is not open", "stderr_fd");
    if (spec.keep_fds.size() > 4) return spec_error("at most 4 descriptors can be kept across exec", "keep_fds");
    for (int fd : spec.keep_fds)
        if (fd <= 2 || !is_open(fd)) return spec_error("kept descriptor " + std::to_string(fd) + " is not open above 2", "keep_fds");
    return std::nullopt;
}

// run_as: never root, and only root can become someone else.
std::optional<Error> validate_identity(const RunOptions& o) {
    if (!o.run_as) return std::nullopt;
    if (o.run_as->uid == 0 || o.run_as->gid == 0)
        return spec_error("run_as uid " + std::to_string(o.run_as->uid) + " gid " + std::to_string(o.run_as->gid) +
                              ": the executor must never run as uid 0 or gid 0",
                          "run_as");
    if (::geteuid() != 0 && (o.run_as->uid != ::geteuid() || o.run_as->gid != ::getegid()))
        return spec_error("run_as uid " + std::to_string(o.run_as->uid) + ": only root can switch to another user; "
                          "run cordon as that user instead (or leave run_as unset)",
                          "run_as");
    return std::nullopt;
}

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
    if (auto bad = validate_descriptors(spec)) return bad;
    if (auto bad = validate_identity(spec.options)) return bad;
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

// Each limit as an rlimit, at most the caller's own hard limit: an unprivileged caller cannot
// raise it, and the lower one is already the stricter. CPU: SIGXCPU at the limit, SIGKILL 1 s on.
void plan_limits(const Limits& l, ChildPlan& plan) {
    auto add = [&plan](int resource, const std::optional<std::uint64_t>& value, std::uint64_t hard_extra) {
        if (!value) return;
        struct rlimit current;
        rlim_t ceiling = ::getrlimit(resource, &current) == 0 ? current.rlim_max : RLIM_INFINITY;
        auto clamp = [ceiling](std::uint64_t v) {
            rlim_t r = v >= static_cast<std::uint64_t>(RLIM_INFINITY) ? RLIM_INFINITY : static_cast<rlim_t>(v);
            return ceiling == RLIM_INFINITY ? r : std::min(r, ceiling);
        };
        std::uint64_t hard = *value > std::numeric_limits<std::uint64_t>::max() - hard_extra ? *value : *value + hard_extra;
        plan.limits[plan.limit_count++] = ChildLimit{resource, clamp(*value), clamp(hard)};
    };
    add(RLIMIT_NPROC, l.processes, 0);
    add(RLIMIT_AS, l.address_space_bytes, 0);
    add(RLIMIT_CPU, l.cpu_seconds, 1);
    add(RLIMIT_FSIZE, l.file_size_bytes, 0);
    add(RLIMIT_NOFILE, l.open_files, 0);
}

// Everything the child touches, built and owned here before fork.
struct Prepared {
    std::vector<char*> argv, envp;
    Fd exec_fd, child_stdin, stdin_w, out_r, out_w, err_r, err_w, report_r, report_w;
    std::optional<RunTerminal> terminal;
    std::optional<RunCgroup> cgroup;
    ChildPlan plan;
};

Status prepare_stdio(const SpawnSpec& spec, Prepared& p) {
    const StdinMode mode = spec.options.stdin_mode;
    if (mode == StdinMode::interactive) {
        auto t = open_run_terminal(spec.options.stdin_fd);
        if (!t) return t.error();
        p.terminal = std::move(*t);
    } else if (mode == StdinMode::pass) {
        if (!make_pipe(p.child_stdin, p.stdin_w)) return spec_error("cannot create pipes: " + errno_text(errno));
        ::fcntl(p.stdin_w.get(), F_SETFL, O_NONBLOCK);  // ours alone; the caller's stdin_fd is never changed
    } else {
        p.child_stdin.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!p.child_stdin) return spec_error("cannot open /dev/null: " + errno_text(errno), "/dev/null");
    }
    if (!p.terminal && (!make_pipe(p.out_r, p.out_w) || !make_pipe(p.err_r, p.err_w)))
        return spec_error("cannot create pipes: " + errno_text(errno));
    if (!make_pipe(p.report_r, p.report_w)) return spec_error("cannot create pipes: " + errno_text(errno));
    if (!lift_above_stdio(p.child_stdin) || !lift_above_stdio(p.out_w) || !lift_above_stdio(p.err_w) ||
        !lift_above_stdio(p.report_w))
        return spec_error("cannot move descriptors above 2: " + errno_text(errno));
    return {};
}

Status prepare_executor(const SpawnSpec& spec, Prepared& p) {
#if defined(__linux__)
    if (spec.executor_fd >= 0) {
        p.exec_fd.reset(::fcntl(spec.executor_fd, F_DUPFD_CLOEXEC, 3));  // private copy, never 0..2
        if (!p.exec_fd) return spec_error("cannot duplicate the executor descriptor: " + errno_text(errno), "executor_fd");
    }
#else
    // No execveat/fexecve here: run the path, but only while it still names the verified file.
    if (spec.executor_fd >= 0) {
        struct stat verified, current;
        if (spec.executor_path.empty() || ::fstat(spec.executor_fd, &verified) != 0 ||
            ::stat(spec.executor_path.c_str(), &current) != 0 || verified.st_dev != current.st_dev ||
            verified.st_ino != current.st_ino)
            return spec_error("the executor path no longer names the verified file", spec.executor_path);
    }
#endif
    return {};
}

void fill_plan(const SpawnSpec& spec, Prepared& p) {
    ChildPlan& plan = p.plan;
    plan.argv = p.argv.data();
    plan.envp = p.envp.data();
    plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
    plan.exec_fd = p.exec_fd.get();
    plan.exec_path = spec.executor_path.c_str();
    if (p.terminal) {
        plan.stdin_fd = plan.stdout_fd = plan.stderr_fd = plan.ctty_fd = p.terminal->slave.get();
    } else {
        plan.stdin_fd = p.child_stdin.get();
        plan.stdout_fd = p.out_w.get();
        plan.stderr_fd = p.err_w.get();
    }
    plan.report_fd = p.report_w.get();
    plan.cgroup_procs_fd = p.cgroup ? p.cgroup->procs_fd() : -1;
    for (std::size_t i = 0; i < spec.keep_fds.size(); ++i) plan.keep_fds[i] = spec.keep_fds[i];
    plan_limits(spec.options.limits, plan);
    plan.switch_ids = spec.options.run_as && ::geteuid() == 0;
    if (plan.switch_ids) {
        plan.uid = static_cast<uid_t>(spec.options.run_as->uid);
        plan.gid = static_cast<gid_t>(spec.options.run_as->gid);
    }
    plan.parent = ::getpid();
    struct rlimit nofile;
    plan.max_fd = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                      ? static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20))
                      : 1 << 16;
}

Result<std::unique_ptr<Prepared>> prepare_child(const SpawnSpec& spec) {
    auto p = std::make_unique<Prepared>();
    for (const auto& a : spec.argv) p->argv.push_back(const_cast<char*>(a.c_str()));
    p->argv.push_back(nullptr);
    for (const auto& kv : spec.env) p->envp.push_back(const_cast<char*>(kv.c_str()));
    p->envp.push_back(nullptr);
    if (auto s = prepare_executor(spec, *p); !s) return s.error();
    auto cgroup = RunCgroup::create(spec.options.limits);
    if (!cgroup) return cgroup.error();
    if (spec.options.limits.memory_bytes && !*cgroup)
        return make_error(ErrorCode::backend_unsupported,
                          "limits.memory_bytes needs a cgroup v2 of the run's own, and none can be made here: " +
                              cgroup_unavailable_reason() + " (address_space_bytes is the per-process limit that works everywhere)",
                          "limits/memory_bytes");
    if (*cgroup) p->cgroup.emplace(std::move(**cgroup));
    if (auto s = prepare_stdio(spec, *p); !s) return s.error();
    fill_plan(spec, *p);
    return p;
}

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

/// The parent's side of one run, from fork to reap.
class Supervisor {
public:
    Supervisor(const SpawnSpec& spec, Prepared& p, pid_t pid, Clock::time_point start, ProcessResult& result);
    void run_loop();
    void drain_and_report();
    void reap();

private:
    enum class Phase { running, terminating, killed };

    void kill_all(int sig) const;
    void terminate(Clock::time_point now, bool& why);
    int wait_ms(Clock::time_point now) const;
    void read_report();
    void flush_sinks(Clock::time_point until);

    const SpawnSpec& spec_;
    Prepared& p_;
    pid_t pid_;
    Clock::time_point start_;
    ProcessResult& result_;
    RunResult& run_;
    Fd pidfd_;
    OutputStream out_, err_;
    InputRelay input_;
    ChildReport report_;
    std::size_t report_bytes_ = 0;
    Phase phase_ = Phase::running;
    std::optional<Clock::time_point> timeout_at_;
    Clock::time_point kill_at_{}, drain_until_{};
    bool exited_ = false;
    bool cancel_requested_ = false;
};

Supervisor::Supervisor(const SpawnSpec& spec, Prepared& p, pid_t pid, Clock::time_point start, ProcessResult& result)
    : spec_(spec), p_(p), pid_(pid), start_(start), result_(result), run_(result.run), pidfd_(open_pidfd(pid)),
      out_(p.terminal ? std::move(p.terminal->master) : std::move(p.out_r), &run_.out, &run_.out_dropped,
           spec.options.output_limit, spec.options.stdout_fd, static_cast<bool>(p.terminal),
           kept_bytes(spec.options, spec.options.stdout_fd)),
      // A streamed stderr the caller does not keep whole still keeps its tail beside its head: the
      // executor's closing messages, which the failure classification reads, come after whatever
      // the workload printed there (run_executor cuts it to the head once classified).
      err_(std::move(p.err_r), &run_.err, &run_.err_dropped, spec.options.output_limit, spec.options.stderr_fd, false,
           kept_bytes(spec.options, spec.options.stderr_fd), /*hold_error_trailer=*/true,
           kept_bytes(spec.options, spec.options.stderr_fd) < spec.options.output_limit ? streamed_head_bytes : 0) {
    if (out_.source_open()) ::fcntl(out_.source_fd(), F_SETFL, O_NONBLOCK);
    if (err_.source_open()) ::fcntl(err_.source_fd(), F_SETFL, O_NONBLOCK);
    ::fcntl(p_.report_r.get(), F_SETFL, O_NONBLOCK);
    const RunOptions& o = spec.options;
    if (p.terminal && o.stdin_fd >= 0) input_ = InputRelay(o.stdin_fd, out_.source_fd());
    else if (o.stdin_mode == StdinMode::pass) input_ = InputRelay(o.stdin_fd, std::move(p.stdin_w));
    if (spec.timeout_ms > 0) timeout_at_ = start + milliseconds(spec.timeout_ms);
}

void Supervisor::kill_all(int sig) const {
    ::kill(-pid_, sig);
    ::kill(pid_, sig);  // before its setsid() the child is not yet a group leader
    if (sig == SIGKILL && p_.cgroup) p_.cgroup->kill();
}

// A timeout and a cancellation end the run the same way; only the flag that says why differs.
void Supervisor::terminate(Clock::time_point now, bool& why) {
    why = true;
    kill_all(SIGTERM);
    kill_all(SIGCONT);  // a stopped process would otherwise hold SIGTERM until SIGKILL
    phase_ = Phase::terminating;
    kill_at_ = now + milliseconds(spec_.options.grace_ms);
}

int Supervisor::wait_ms(Clock::time_point now) const {
    std::optional<Clock::time_point> wake;
    if (phase_ == Phase::running) wake = timeout_at_;
    else wake = phase_ == Phase::terminating ? kill_at_ : drain_until_;
    int ms = -1;
    if (wake) {
        auto left = std::chrono::ceil<milliseconds>(*wake - now).count();
        ms = static_cast<int>(std::clamp<decltype(left)>(left, 0, 1 << 30));
    }
    if (!exited_ && !pidfd_) ms = ms < 0 ? 10 : std::min(ms, 10);
    return ms;
}

void Supervisor::read_report() {
    if (!p_.report_r) return;
    auto* dst = reinterpret_cast<char*>(&report_) + report_bytes_;
    ssize_t n = ::read(p_.report_r.get(), dst, sizeof report_ - report_bytes_);
    if (n > 0) report_bytes_ += static_cast<std::size_t>(n);
    else if (n == 0 || (errno != EAGAIN && errno != EINTR)) p_.report_r.reset();
    if (report_bytes_ == sizeof report_) p_.report_r.reset();
}

struct PollSet {
    pollfd fds[10];
    nfds_t n = 0;
    int add(int fd, short events) {
        fds[n] = pollfd{fd, events, 0};
        return static_cast<int>(n++);
    }
    bool ready(int i, short mask) const { return i >= 0 && (fds[i].revents & mask) != 0; }
};

void Supervisor::run_loop() {
    const short readable = POLLIN | POLLHUP | POLLERR;
    const short writable = POLLOUT | POLLHUP | POLLERR | POLLNVAL;
    const bool interactive = static_cast<bool>(p_.terminal);
    for (;;) {
        auto now = Clock::now();
        if (phase_ == Phase::running && !exited_ && cancel_requested_) terminate(now, run_.cancelled);
        if (phase_ == Phase::running && timeout_at_ && now >= *timeout_at_) terminate(now, run_.timed_out);
        // Once the child is gone (or the grace period is over), nothing of its group may stay.
        if ((phase_ == Phase::terminating && now >= kill_at_) || (exited_ && phase_ != Phase::killed)) {
            kill_all(SIGKILL);
            phase_ = Phase::killed;
            drain_until_ = now + milliseconds(spec_.drain_ms);
        }
        // No more of the caller's input once the command is gone (or its terminal is).
        if (exited_ || (interactive && !out_.source_open())) input_.stop();
        if (exited_ && out_.done() && err_.done()) break;
        if (phase_ == Phase::killed && now >= drain_until_) break;

        PollSet ps;
        int out_r = out_.wants_read() ? ps.add(out_.source_fd(), POLLIN) : -1;
        int out_w = out_.wants_sink() ? ps.add(out_.sink_fd(), POLLOUT) : -1;
        int err_r = err_.wants_read() ? ps.add(err_.source_fd(), POLLIN) : -1;
        int err_w = err_.wants_sink() ? ps.add(err_.sink_fd(), POLLOUT) : -1;
        int in_r = input_.wants_read() ? ps.add(input_.source_fd(), POLLIN) : -1;
        int in_w = input_.wants_write() ? ps.add(input_.dest_fd(), POLLOUT) : -1;
        int report_i = p_.report_r ? ps.add(p_.report_r.get(), POLLIN) : -1;
        int pid_i = !exited_ && pidfd_ ? ps.add(pidfd_.get(), POLLIN) : -1;
        // Watched only while running: a readable descriptor stays readable, and polling it in the
        // later phases would spin.
        int cancel_i = phase_ == Phase::running && !exited_ && spec_.options.cancel_fd >= 0
                           ? ps.add(spec_.options.cancel_fd, POLLIN)
                           : -1;
        if (::poll(ps.fds, ps.n, wait_ms(now)) < 0) {
            if (errno == EINTR) continue;
            int poll_errno = errno;
            kill_all(SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
            throw std::system_error(poll_errno, std::generic_category(), "poll");
        }
        if (ps.ready(out_r, readable)) out_.read_some();
        if (ps.ready(err_r, readable)) err_.read_some();
        if (ps.ready(out_w, writable)) out_.write_sink();
        if (ps.ready(err_w, writable)) err_.write_sink();
        if (ps.ready(in_r, readable | POLLNVAL)) input_.read_some();
        if (ps.ready(in_w, writable)) input_.write_some();
        if (ps.ready(report_i, readable)) read_report();
        if (!exited_) exited_ = has_exited(pid_, pidfd_.get(), pid_i >= 0 ? ps.fds[pid_i].revents : 0);
        if (ps.ready(cancel_i, readable | POLLNVAL)) cancel_requested_ = true;
    }
}

// What the sinks still wait for, within the bound: a sink nobody reads must not hold the run.
void Supervisor::flush_sinks(Clock::time_point until) {
    while (out_.wants_sink() || err_.wants_sink()) {
        auto left = std::chrono::ceil<milliseconds>(until - Clock::now()).count();
        if (left <= 0) break;
        PollSet ps;
        int o = out_.wants_sink() ? ps.add(out_.sink_fd(), POLLOUT) : -1;
        int e = err_.wants_sink() ? ps.add(err_.sink_fd(), POLLOUT) : -1;
        if (::poll(ps.fds, ps.n, static_cast<int>(std::min<decltype(left)>(left, 1 << 30))) < 0 && errno != EINTR) break;
        if (ps.ready(o, POLLOUT | POLLHUP | POLLERR | POLLNVAL)) out_.write_sink();
        if (ps.ready(e, POLLOUT | POLLHUP | POLLERR | POLLNVAL)) err_.write_sink();
    }
    out_.drop_sink();
    err_.drop_sink();
}

// Take what is already buffered (bounded: a live writer could refill forever), note who still
// holds the pipes, hand the sinks what they wait for.
void Supervisor::drain_and_report() {
    for (OutputStream* s : {&out_, &err_})
        for (int i = 0; i < 16 && s->source_open() && s->read_some(); ++i) {}
    err_.release_held();  // the executor's own {"error":...} is reported by the runner, not streamed
    err_.keep_tail_bytes();
    // A sink gets grace_ms + drain_ms more for what the command wrote before it ended.
    flush_sinks(Clock::now() + milliseconds(std::uint64_t{spec_.options.grace_ms} + spec_.drain_ms));
    if (out_.source_open() || err_.source_open()) {
        result_.output_held_open = true;
        std::vector<int> open_fds;
        if (out_.source_open()) open_fds.push_back(out_.source_fd());
        if (err_.source_open()) open_fds.push_back(err_.source_fd());
        result_.holder_pids = pipe_holders(open_fds);
        result_.incident = "stdout/stderr were still held open " + std::to_string(spec_.drain_ms) +
                           " ms after the process group was killed";
        if (!result_.holder_pids.empty()) {
            result_.incident += " (held by pid";
            for (int holder : result_.holder_pids) result_.incident += " " + std::to_string(holder);
            result_.incident += ")";
        }
        result_.incident += "; stopped reading";
        out_.close_source();
        err_.close_source();
    }
    read_report();
}

void Supervisor::reap() {
    int status = 0;
    pid_t reaped;
    do reaped = ::waitpid(pid_, &status, exited_ ? 0 : WNOHANG);
    while (reaped < 0 && errno == EINTR);
    auto note = [this](const std::string& text) {
        if (!result_.incident.empty()) result_.incident += "; ";
        result_.incident += text;
    };
    if (reaped == pid_) {
        if (WIFEXITED(status)) run_.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) run_.signal = WTERMSIG(status);
    } else if (reaped < 0 && errno == ECHILD) {
        note("the executor's exit status was collected elsewhere in this process (a SIGCHLD handler or thread "
             "calling wait for any child); it is unknown");
    } else {
        result_.executor_unreaped = true;
        note("executor pid " + std::to_string(pid_) + " did not exit within " + std::to_string(spec_.drain_ms) +
             " ms of SIGKILL and was left unreaped");
    }
    run_.duration_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(Clock::now() - start_).count());
    run_.cgroup = static_cast<bool>(p_.cgroup);
    if (report_bytes_ == sizeof report_) {
        auto stage = static_cast<Stage>(report_.stage);
        run_.exit_code = -1;
        run_.failure = ExecutorFailure::spawn_failed;
        run_.failure_message = "cannot start " + describe_executor(spec_) + ": " + stage_text(stage) + ": " +
                               errno_text(report_.error);
        if (stage == Stage::chdir) run_.failure_message += " (" + spec_.cwd + ")";
        if (stage == Stage::exec && spec_.executor_fd >= 0 && report_.error == ENOENT)
            run_.failure_message += " (a #! script cannot run from a close-on-exec descriptor; the executor must be a binary)";
        if (stage == Stage::exec && report_.error == EACCES && spec_.options.run_as)
            run_.failure_message += " (the executor file must be executable by uid " +
                                    std::to_string(spec_.options.run_as->uid) + ")";
        if (stage == Stage::exec && report_.error == EAGAIN && spec_.options.limits.processes)
            run_.failure_message += " (limits.processes: the run's uid already has that many processes)";
    }
}

#if defined(__linux__) && !CORDON_POSIX_SANITIZED
CORDON_CHILD_CODE int child_entry(void* plan) { child_main(*static_cast<const ChildPlan*>(plan)); }
#endif

// Starts child_main(plan) as a new process; in the parent, its pid (or -1 with errno). Linux:
// clone(CLONE_VM | CLONE_VFORK) on a stack of its own, as glibc's posix_spawn does. fork() would
// copy this process's page tables and then copy-on-write every page the parent touches while the
// child has not exec'd yet, which costs in proportion to the embedder's size (measured: ~0.3 ms
// of a kept Runner's ~1.1 ms per run, bench/run_overhead.sh). The child shares our memory only
// until it execs or exits, and we are suspended meanwhile; child_main reads only the plan
// (built before, never written) and makes system calls, and signals stay blocked until it has
// reset every handler (default_signals). A child step that blocks (chdir or exec on a hung
// network file system) holds us too, as with posix_spawn.
pid_t start_child(const ChildPlan& plan) {
#if defined(__linux__) && !CORDON_POSIX_SANITIZED
    constexpr std::size_t stack_size = 256 * 1024;
    void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack != MAP_FAILED) {
        pid_t pid = ::clone(child_entry, static_cast<char*>(stack) + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD,
                            const_cast<ChildPlan*>(&plan));
        int clone_errno = errno;
#if defined(CORDON_POSIX_ASAN)
        __asan_unpoison_memory_region(stack, stack_size);
#endif
        ::munmap(stack, stack_size);  // the child has exec'd or exited: its stack is ours again
        errno = clone_errno;
        return pid;
    }
#endif
    pid_t pid = ::fork();
    if (pid == 0) child_main(plan);
    return pid;
}

}  // namespace

std::size_t kept_bytes(const RunOptions& o, int sink) {
    return sink >= 0 && !o.keep_streamed_output ? std::min(o.output_limit, streamed_head_bytes) : o.output_limit;
}

Result<ProcessResult> run_process(const SpawnSpec& spec) {
    if (auto bad = validate(spec)) return *bad;
    auto prepared = prepare_child(spec);
    if (!prepared) return prepared.error();
    Prepared& p = **prepared;
    // The operator's terminal goes raw only for the run itself, and comes back on every return.
    std::optional<RawMode> raw;
    if (p.terminal) raw.emplace(spec.options.stdin_fd);

    sigset_t all, saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved);
    const auto start = Clock::now();
    pid_t pid = start_child(p.plan);
    int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) return spec_error("fork failed: " + errno_text(fork_errno));

    // The parent keeps only its ends (a slave kept here would hide the terminal's hang-up).
    p.out_w.reset();
    p.err_w.reset();
    p.report_w.reset();
    p.child_stdin.reset();
    p.exec_fd.reset();
    if (p.terminal) p.terminal->slave.reset();

    ProcessResult result;
    try {
        Supervisor supervisor(spec, p, pid, start, result);
        supervisor.run_loop();
        supervisor.drain_and_report();
        supervisor.reap();
    } catch (const std::system_error& e) {
        return spec_error("poll failed: " + e.code().message());
    }
    return result;
}

}  // namespace cordon::posix
