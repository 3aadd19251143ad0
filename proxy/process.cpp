// SPDX-License-Identifier: MIT
// cordon proxy: the cordon-proxy program (adopt a bound socket, drop privileges, serve until told to stop) and ProxyProcess, its parent side.
#include "cordon/proxy_process.hpp"

#include "cordon/detail/input_file.hpp"

#if !defined(_WIN32)

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <dirent.h>
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

namespace cordon {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads to EOF (at most `max` bytes); false on a read error or when there is more.
bool read_all(int fd, std::string& out, std::size_t max) {
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max) return false;
    }
}

// The proxy parses bytes from an untrusted workload: it serves as an unprivileged account, cannot
// regain privileges (no_new_privs) and cannot be traced or dumped by that account's other processes.
Status drop_privileges(const std::string& user) {
#if defined(__linux__)
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return make_error(ErrorCode::execution_failed, errno_text("no_new_privs"));
#endif
    if (::geteuid() == 0) {
        passwd* pw = ::getpwnam(user.c_str());
        if (!pw) return make_error(ErrorCode::execution_failed, "no account \"" + user + "\" to serve as");
        if (pw->pw_uid == 0) return make_error(ErrorCode::execution_failed, "refusing to serve as root (\"" + user + "\")");
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;
        if (::setgroups(0, nullptr) != 0) return make_error(ErrorCode::execution_failed, errno_text("setgroups"));
#if defined(__linux__)
        if (::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0)
#else
        if (::setgid(gid) != 0 || ::setegid(gid) != 0 || ::setuid(uid) != 0 || ::seteuid(uid) != 0)
#endif
            return make_error(ErrorCode::execution_failed, errno_text("dropping to \"" + user + "\""));
        if (::setuid(0) == 0 || ::seteuid(0) == 0)
            return make_error(ErrorCode::execution_failed, "privileges could be regained after dropping them");
    }
#if defined(__linux__)
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    return {};
}

// Nothing but the five descriptors cordon handed over (and stdio) stays open.
void close_other_fds(int keep_below) {
#if defined(__linux__)
    std::vector<int> fds;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) {
            int fd = std::atoi(e->d_name);
            if (fd >= keep_below && fd != ::dirfd(d)) fds.push_back(fd);
        }
        ::closedir(d);
        for (int fd : fds) ::close(fd);
        return;
    }
#endif
    long max = ::sysconf(_SC_OPEN_MAX);
    for (int fd = keep_below; fd < (max > 0 && max < 65536 ? max : 65536); ++fd) ::close(fd);
}

struct ProgramArgs {
    int listen_fd = -1, config_fd = -1, decisions_fd = -1, stop_fd = -1, status_fd = -1;
    std::string config_file, decisions_file, user = "nobody";
};

bool parse_args(int argc, char** argv, ProgramArgs& a, std::string& problem) {
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (i + 1 >= argc) {
            problem = "missing a value after " + k;
            return false;
        }
        std::string v = argv[++i];
        auto fd = [&](int& out) {
            char* end = nullptr;
            long n = std::strtol(v.c_str(), &end, 10);
            if (!end || *end || n < 0 || n > 1 << 20) return false;
            out = static_cast<int>(n);
            return true;
        };
        bool ok = true;
        if (k == "--listen-fd") ok = fd(a.listen_fd);
        else if (k == "--config-fd") ok = fd(a.config_fd);
        else if (k == "--decisions-fd") ok = fd(a.decisions_fd);
        else if (k == "--stop-fd") ok = fd(a.stop_fd);
        else if (k == "--status-fd") ok = fd(a.status_fd);
        else if (k == "--config") a.config_file = v;
        else if (k == "--decisions") a.decisions_file = v;
        else if (k == "--user") a.user = v;
        else ok = false;
        if (!ok) {
            problem = "bad argument " + k + " " + v;
            return false;
        }
    }
    bool fd_mode = a.listen_fd >= 0;
    if (fd_mode ? (a.config_fd < 0 || a.decisions_fd < 0 || a.stop_fd < 0 || a.status_fd < 0) : a.config_file.empty()) {
        problem = "usage: cordon-proxy --listen-fd N --config-fd N --decisions-fd N --stop-fd N --status-fd N [--user NAME]\n"
                  "       cordon-proxy --config FILE [--decisions FILE] [--user NAME]";
        return false;
    }
    return true;
}

// Waits for a stop: EOF (or an error) on `stop_fd`, or SIGINT/SIGTERM (blocked in every thread).
void wait_for_stop(int stop_fd, const sigset_t& signals) {
    for (;;) {
        if (stop_fd >= 0) {
            pollfd p{stop_fd, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0) {
                char c;
                ssize_t n = ::read(stop_fd, &c, 1);
                if (n <= 0 && !(n < 0 && errno == EINTR)) return;
            }
        }
        timespec tick{0, 100 * 1000 * 1000};
        if (::sigtimedwait(&signals, nullptr, &tick) > 0) return;
    }
}

int serve(const ProgramArgs& a) {
    auto report = [&](const std::string& line) {
        if (a.status_fd >= 0) write_all(a.status_fd, line + "\n");
        else std::cout << line << std::endl;
    };
    std::string text;
    if (a.config_fd >= 0) {
        if (!read_all(a.config_fd, text, 4u << 20)) {
            report("error: cannot read the configuration");
            return 2;
        }
        ::close(a.config_fd);
    } else {
        auto file = detail::read_input_file(a.config_file, 4u << 20, detail::FileTrust::any, "proxy configuration");
        if (!file) {
            report("error: " + file.error().to_string());
            return 2;
        }
        text = std::move(file->text);
    }
    auto config = proxy_config_from_json(text);
    if (!config) {
        report("error: configuration: " + config.error().to_string());
        return 2;
    }
    int decisions_fd = a.decisions_fd;
    if (decisions_fd < 0 && !a.decisions_file.empty())
        decisions_fd = ::open(a.decisions_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (decisions_fd < 0 && !a.decisions_file.empty()) {
        report("error: " + errno_text("cannot open " + a.decisions_file));
        return 2;
    }
    if (Status s = drop_privileges(a.user); !s) {
        report("error: " + s.error().message);
        return 2;
    }
#if defined(__linux__)
    pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);  // set after the drop, which clears it
    if (a.stop_fd >= 0 && ::getppid() != parent) return 0;  // the run is already over
#endif
    if (decisions_fd >= 0)
        config->on_decision = [decisions_fd](const ProxyDecision& d) { write_all(decisions_fd, d.to_json() + "\n"); };
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the proxy thread exists, so it inherits the mask
    auto proxy = a.listen_fd >= 0 ? FilteringProxy::adopt(a.listen_fd, std::move(*config)) : FilteringProxy::start(std::move(*config));
    if (!proxy) {
        report("error: " + proxy.error().to_string());
        return 2;
    }
    report(a.status_fd >= 0 ? "ready " + std::to_string((*proxy)->port()) : "cordon-proxy listening on " + (*proxy)->url());
    if (a.status_fd >= 0) ::close(a.status_fd);
    wait_for_stop(a.stop_fd, signals);
    (*proxy)->stop();
    return 0;
}

}  // namespace

int proxy_program_main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    ProgramArgs a;
    std::string problem;
    if (!parse_args(argc, argv, a, problem)) {
        std::cerr << "cordon-proxy: " << problem << "\n";
        return 2;
    }
    if (a.listen_fd >= 0) close_other_fds(8);
    try {
        return serve(a);
    } catch (const std::exception& e) {
        std::cerr << "cordon-proxy: " << e.what() << "\n";
        return 1;
    }
}

// ---- parent side ----

namespace {

// A descriptor above the child's fixed numbers 3..7, close-on-exec, so dup2 in the child never
// meets a descriptor that is its own target.
int high_fd(int fd) {
    int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 64);
    ::close(fd);
    return h;
}

struct Fds {
    std::vector<int> list;
    ~Fds() {
        for (int fd : list)
            if (fd >= 0) ::close(fd);
    }
    int add(int fd) {
        list.push_back(fd);
        return fd;
    }
    void release(int fd) {
        for (int& f : list)
            if (f == fd) f = -1;
    }
};

Result<int> bind_loopback(std::uint16_t port, std::uint16_t& bound) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(ErrorCode::io_error, errno_text("socket"));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, SOMAXCONN) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        std::string e = errno_text("binding 127.0.0.1:" + std::to_string(port));
        ::close(fd);
        return make_error(ErrorCode::io_error, e);
    }
    bound = ntohs(a.sin_port);
    return high_fd(fd);
}

Result<int> private_file() {
#if defined(O_TMPFILE)
    int tmp = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp >= 0) return high_fd(tmp);
#endif
    char name[] = "/tmp/cordon-proxy-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) return make_error(ErrorCode::io_error, errno_text("mkstemp"));
    ::unlink(name);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return high_fd(fd);
}

Result<std::pair<int, int>> make_pipe() {
    int p[2];
    if (::pipe(p) != 0) return make_error(ErrorCode::io_error, errno_text("pipe"));
    return std::pair<int, int>{high_fd(p[0]), high_fd(p[1])};
}

// Reads the child's status line ("ready PORT" or "error: ...") until it closes the pipe.
std::string read_status(int fd, int timeout_ms) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[512];
    while (std::chrono::steady_clock::now() < end && out.size() < 4096) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool wait_exit(int pid, std::uint32_t ms, int& status) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    do {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < end);
    return false;
}

}  // namespace

Result<ProxyProcess> ProxyProcess::spawn(const ProxyConfig& config, const ProxyProcessOptions& options) {
    Fds fds;
    std::uint16_t port = 0;
    auto listen = bind_loopback(config.listen_port, port);
    if (!listen) return listen.error();
    fds.add(*listen);
    auto decisions = private_file();
    if (!decisions) return decisions.error();
    fds.add(*decisions);
    auto cfg = make_pipe(), stop = make_pipe(), status = make_pipe();
    for (auto* p : {&cfg, &stop, &status}) {
        if (!*p) return p->error();
        fds.add((*p)->first);
        fds.add((*p)->second);
    }
    const std::vector<std::string> args = {options.executable, "--listen-fd", "3", "--config-fd", "4", "--decisions-fd", "5",
                                           "--stop-fd", "6", "--status-fd", "7", "--user", options.user};
    std::vector<char*> argv;
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    char* envp[] = {nullptr};  // nothing inherited
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    int targets[] = {*listen, cfg->first, *decisions, stop->first, status->second};
    for (int i = 0; i < 5; ++i) ::posix_spawn_file_actions_adddup2(&actions, targets[i], 3 + i);
    // The child starts with no blocked signals and default actions, whatever the embedder set.
    posix_spawnattr_t attr;
    ::posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, options.executable.c_str(), &actions, &attr, argv.data(), envp);
    ::posix_spawnattr_destroy(&attr);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return make_error(ErrorCode::execution_failed, "cannot start " + options.executable + ": " + std::strerror(rc));
    ProxyProcess p;
    p.pid_ = pid;
    p.port_ = port;
    p.grace_ms_ = options.stop_grace_ms;
    p.stop_fd_ = stop->second;
    p.decisions_fd_ = *decisions;
    fds.release(stop->second);
    fds.release(*decisions);
    ::close(*listen);  // only the child accepts from now on
    fds.release(*listen);
    bool sent = write_all(cfg->second, proxy_config_to_json(config));
    ::close(cfg->second);
    fds.release(cfg->second);
    ::close(status->second);  // so that EOF arrives when the child closes its copy
    fds.release(status->second);
    std::string line = read_status(status->first, 10000);
    if (!sent || line != "ready " + std::to_string(port)) {
        p.kill_now();
        return make_error(ErrorCode::execution_failed,
                          "cordon-proxy did not start: " + (line.empty() ? std::string("no answer") : line), options.executable);
    }
    return p;
}

ProxyProcess::ProxyProcess(ProxyProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), stop_fd_(std::exchange(o.stop_fd_, -1)),
      decisions_fd_(std::exchange(o.decisions_fd_, -1)), port_(o.port_), grace_ms_(o.grace_ms_) {}

ProxyProcess& ProxyProcess::operator=(ProxyProcess&& o) noexcept {
    if (this != &o) {
        kill_now();
        pid_ = std::exchange(o.pid_, -1);
        stop_fd_ = std::exchange(o.stop_fd_, -1);
        decisions_fd_ = std::exchange(o.decisions_fd_, -1);
        port_ = o.port_;
        grace_ms_ = o.grace_ms_;
    }
    return *this;
}

ProxyProcess::~ProxyProcess() { kill_now(); }

void ProxyProcess::kill_now() noexcept {
    if (stop_fd_ >= 0) ::close(std::exchange(stop_fd_, -1));
    if (pid_ > 0) {
        int status = 0;
        if (!wait_exit(pid_, grace_ms_, status)) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }
    if (decisions_fd_ >= 0) ::close(std::exchange(decisions_fd_, -1));
}

Result<std::vector<ProxyDecision>> ProxyProcess::stop() {
    if (pid_ <= 0) return make_error(ErrorCode::execution_failed, "the proxy process is not running");
    ::close(std::exchange(stop_fd_, -1));
    int status = 0;
    bool exited = wait_exit(pid_, grace_ms_, status);
    if (!exited) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    std::string text;
    bool read = ::lseek(decisions_fd_, 0, SEEK_SET) == 0 && read_all(decisions_fd_, text, 256u << 20);
    ::close(std::exchange(decisions_fd_, -1));
    if (!exited || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return make_error(ErrorCode::execution_failed, exited ? "cordon-proxy ended abnormally (status " + std::to_string(status) + ")"
                                                              : "cordon-proxy did not stop in time and was killed");
    if (!read) return make_error(ErrorCode::io_error, "cannot read the proxy's decisions");
    std::vector<ProxyDecision> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        auto d = ProxyDecision::from_json(line);
        if (!d) return make_error(ErrorCode::internal, "a decision line is not valid: " + d.error().to_string());
        out.push_back(std::move(*d));
    }
    return out;
}

}  // namespace cordon

#else  // Windows: the proxy runs in-process (FilteringProxy); a separate process is future work.

#include <iostream>

namespace cordon {
int proxy_program_main(int, char**) {
    std::cerr << "cordon-proxy: the process mode is POSIX-only; embed FilteringProxy on Windows\n";
    return 2;
}
}  // namespace cordon

#endif
