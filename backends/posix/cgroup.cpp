// SPDX-License-Identifier: MIT
// cordon POSIX runner: finding a cgroup v2 hierarchy, making the run's cgroup, killing and removing it.
#include "cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/magic.h>
#include <sys/vfs.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace cordon::posix {
namespace {

#if defined(__linux__)
// The first cgroup2 mount in /proc/self/mountinfo ("... MOUNTPOINT ... - cgroup2 ...").
std::string scan_cgroup2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
        std::istringstream fields(line.substr(0, dash));
        std::string id, parent, devno, root, mount;
        if (fields >> id >> parent >> devno >> root >> mount) return mount;
    }
    return {};
}

// scan_cgroup2_mount(), read once per process: afterwards one statfs() per run confirms that a
// cgroup2 file system is still mounted there. Reading the mount table took ~0.1 ms of every
// run's ~0.6 ms in the backend (more on a host with many mounts); only root can move the mount.
std::string cgroup2_mount() {
    static std::mutex lock;
    static std::string cached;
    std::lock_guard<std::mutex> guard(lock);
    struct statfs fs {};
    if (!cached.empty() && ::statfs(cached.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return cached;
    cached = scan_cgroup2_mount();
    return cached;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool has_word(const std::string& text, const std::string& word) {
    std::istringstream words(text);
    for (std::string w; words >> w;)
        if (w == word) return true;
    return false;
}

bool write_text(const std::string& path, const std::string& text, int& err) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        return false;
    }
    ssize_t n = ::write(fd, text.data(), text.size());
    err = errno;
    ::close(fd);
    return n == static_cast<ssize_t>(text.size());
}

std::vector<std::string> needed_controllers(const Limits& l) {
    std::vector<std::string> c;
    if (l.memory_bytes) c.push_back("memory");
    if (l.processes) c.push_back("pids");
    return c;
}

bool offers(const std::string& dir, const std::vector<std::string>& controllers, const char* file) {
    std::string text = read_text(dir + "/" + file);
    for (const auto& c : controllers)
        if (!has_word(text, c)) return false;
    return true;
}

// The directory in which this process may create the run's cgroup, or empty.
std::string parent_for_runs(const std::vector<std::string>& controllers, std::string& why) {
    auto none = [&why](std::string reason) {
        why = std::move(reason);
        return std::string();
    };
    std::string mount = cgroup2_mount();
    if (mount.empty()) return none("no cgroup2 file system is mounted");
    if (!offers(mount, controllers, "cgroup.controllers"))
        return none("the cgroup v2 hierarchy at " + mount +
                    " lacks the memory or pids controller (on this host they are bound to cgroup v1)");
    if (::geteuid() == 0) return mount;
    // Delegated: a sibling of our own cgroup ("0::/path" in /proc/self/cgroup).
    std::ifstream self("/proc/self/cgroup");
    std::string own;
    for (std::string line; std::getline(self, line);)
        if (line.rfind("0::", 0) == 0) own = line.substr(3);
    auto slash = own.find_last_of('/');
    if (own.empty() || slash == std::string::npos || slash == 0)
        return none("this user's cgroup has no delegated parent");
    std::string parent = mount + own.substr(0, slash);
    struct stat st;
    if (::stat(parent.c_str(), &st) != 0 || st.st_uid != ::geteuid() || ::access(parent.c_str(), W_OK) != 0 ||
        !offers(parent, controllers, "cgroup.subtree_control"))
        return none("the parent of this user's cgroup (" + parent + ") is not delegated to it with memory and pids");
    return parent;
}

std::atomic<unsigned> run_counter{0};
#endif

}  // namespace

std::string cgroup_unavailable_reason() {
#if defined(__linux__)
    std::string why;
    if (!parent_for_runs({"memory", "pids"}, why).empty()) return "a cgroup v2 is available";
    return why;
#else
    return "cgroups exist only on Linux";
#endif
}

Result<std::optional<RunCgroup>> RunCgroup::create(const Limits& limits) {
#if defined(__linux__)
    auto controllers = needed_controllers(limits);
    if (controllers.empty()) return std::optional<RunCgroup>();
    std::string why;
    std::string base = parent_for_runs(controllers, why);
    if (base.empty()) return std::optional<RunCgroup>();
    auto failed = [](const std::string& what, const std::string& where, int err) {
        return make_error(ErrorCode::io_error, "cgroup v2: " + what + ": " + errno_text(err), where);
    };
    int err = 0;
    std::string enable;
    for (const auto& c : controllers) enable += (enable.empty() ? "+" : " +") + c;
    if (::geteuid() == 0) {
        // The mount's root may enable controllers for its children; `cordon/` holds only runs.
        if (!offers(base, controllers, "cgroup.subtree_control") && !write_text(base + "/cgroup.subtree_control", enable, err))
            return failed("cannot enable " + enable, base + "/cgroup.subtree_control", err);
        base += "/cordon";
        if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) return failed("cannot create", base, errno);
        if (!offers(base, controllers, "cgroup.subtree_control") && !write_text(base + "/cgroup.subtree_control", enable, err))
            return failed("cannot enable " + enable, base + "/cgroup.subtree_control", err);
    }
    RunCgroup cg;
    for (int attempt = 0; cg.dir_.empty(); ++attempt) {
        std::string dir = base + "/cordon-run-" + std::to_string(::getpid()) + "-" + std::to_string(run_counter++);
        if (::mkdir(dir.c_str(), 0755) == 0) cg.dir_ = dir;
        else if (errno != EEXIST || attempt > 100) return failed("cannot create", dir, errno);
    }
    if (limits.memory_bytes) {
        if (!write_text(cg.dir_ + "/memory.max", std::to_string(*limits.memory_bytes), err))
            return failed("cannot set memory.max", cg.dir_, err);
        // Swap would let the tree use more than memory.max; absent without swap accounting.
        if (::access((cg.dir_ + "/memory.swap.max").c_str(), F_OK) == 0 && !write_text(cg.dir_ + "/memory.swap.max", "0", err))
            return failed("cannot set memory.swap.max", cg.dir_, err);
    }
    if (limits.processes && !write_text(cg.dir_ + "/pids.max", std::to_string(*limits.processes), err))
        return failed("cannot set pids.max", cg.dir_, err);
    cg.procs_.reset(::open((cg.dir_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!cg.procs_) return failed("cannot open cgroup.procs", cg.dir_, errno);
    if (!lift_above_stdio(cg.procs_)) return failed("fcntl", cg.dir_, errno);
    return std::optional<RunCgroup>(std::move(cg));
#else
    (void)limits;
    return std::optional<RunCgroup>();
#endif
}

void RunCgroup::kill() const noexcept {
#if defined(__linux__)
    if (dir_.empty()) return;
    int err = 0;
    try {
        write_text(dir_ + "/cgroup.kill", "1", err);
    } catch (...) {
    }
#endif
}

RunCgroup::RunCgroup(RunCgroup&& other) noexcept
    : dir_(std::exchange(other.dir_, {})), procs_(std::move(other.procs_)) {}

RunCgroup::~RunCgroup() {
    procs_.reset();
    if (dir_.empty()) return;
    kill();
    // rmdir succeeds once the last process has left (SIGKILL is delivered asynchronously).
    for (int i = 0; i < 100 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace cordon::posix
