// SPDX-License-Identifier: MIT
// Test support: has a process ended? A zombie counts as ended: an orphan waits for a reaper that may
// be slow (or absent, as in some containers), but it can do nothing any more.
#pragma once

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace cordon::test {

inline bool gone(int pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
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

}  // namespace cordon::test
