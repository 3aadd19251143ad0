// SPDX-License-Identifier: MIT
// Test support: the host's process table as an oracle. Has a process ended? (A zombie counts as
// ended: an orphan waits for a reaper that may be slow or absent, but it can do nothing any more.)
// Which processes run a given command line?
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cordon::test {

/// A /proc file's contents; what was read so far (often nothing) when the process ends meanwhile.
/// (Not std::ifstream: libstdc++ throws from its buffer when a read fails with ESRCH.)
inline std::string read_proc_file(const std::string& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

inline bool gone(int pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::string s = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
    auto close = s.rfind(')');
    return close != std::string::npos && close + 2 < s.size() && (s[close + 2] == 'Z' || s[close + 2] == 'X');
}

/// SIGKILL is delivered asynchronously; give the kernel a bounded moment (3 s) to finish the job.
inline bool becomes_gone(int pid) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!gone(pid)) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

/// Host pids of processes whose command line (NUL-separated argv) satisfies `matches`. (A
/// sandbox's pid namespace hides its inner pids: this finds them as the host sees them.)
template <class Match>
std::vector<int> processes_where(Match matches) {
    std::vector<int> pids;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    while (dirent* e = proc ? ::readdir(proc.get()) : nullptr) {
        int pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        if (matches(read_proc_file(std::string("/proc/") + e->d_name + "/cmdline"))) pids.push_back(pid);
    }
    return pids;
}

/// Host pids of processes whose whole command line is `cmdline`.
inline std::vector<int> processes_with(const std::string& cmdline) {
    return processes_where([&](const std::string& cmd) { return cmd == cmdline; });
}

/// Host pids of processes whose command line contains `marker` anywhere (a shell running it too).
inline std::vector<int> processes_mentioning(const std::string& marker) {
    return processes_where([&](const std::string& cmd) { return cmd.find(marker) != std::string::npos; });
}

/// Host pids whose command line is exactly `sleep <arg>`.
inline std::vector<int> sleeps_with(const std::string& arg) {
    return processes_with(std::string("sleep\0", 6) + arg + std::string("\0", 1));
}

}  // namespace cordon::test
