// SPDX-License-Identifier: MIT
// Test support: unprivileged users for runs started as root (cordon never runs the executor as root).
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "cordon/run_limits.hpp"

namespace cordon::test {

struct TestUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    RunAs run_as() const { return RunAs{uid, gid}; }
};

inline std::optional<TestUser> lookup_user(const std::string& name) {
    if (const passwd* pw = ::getpwnam(name.c_str())) return TestUser{name, pw->pw_uid, pw->pw_gid};
    return std::nullopt;
}

/// The system user `name` (e.g. "cordon-test"), created with useradd when missing. Needs root for
/// the creation; test programs may race to create it, so a failed useradd is retried after a
/// look-up. nullopt with `why` set when it does not exist and cannot be made.
inline std::optional<TestUser> test_user(const std::string& name = "cordon-test", std::string* why = nullptr) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (auto u = lookup_user(name)) return u;
        if (::geteuid() != 0) {
            if (why) *why = "user " + name + " does not exist and only root can create it";
            return std::nullopt;
        }
        pid_t pid = ::fork();
        if (pid == 0) {
            const char* argv[] = {"useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                                  "/nonexistent", "--shell", "/usr/sbin/nologin", name.c_str(), nullptr};
            ::execvp("useradd", const_cast<char* const*>(argv));
            ::_exit(127);
        }
        int status = 0;
        if (pid > 0) ::waitpid(pid, &status, 0);
        if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
            if (why) *why = "useradd is not installed";
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50 * (attempt + 1)));  // a lock held by a racing useradd
    }
    if (auto u = lookup_user(name)) return u;
    if (why) *why = "useradd could not create user " + name;
    return std::nullopt;
}

/// What RunOptions::run_as must be in a test: the test user when the test runs as root (the
/// runner refuses root), else unset (the run is the caller's own user).
inline std::optional<RunAs> run_as_for_tests() {
    if (::geteuid() != 0) return std::nullopt;
    auto u = test_user();
    if (!u) return std::nullopt;  // the run will then be refused, and the test fails saying so
    return u->run_as();
}

/// Hands `path` (recursively) to the run's user when the test runs as root, so a command running
/// as that user can use what the test prepared.
inline void hand_to_run_user(const std::filesystem::path& path, const std::optional<RunAs>& as = run_as_for_tests()) {
    if (!as) return;
    std::error_code ec;
    auto give = [&as](const std::filesystem::path& p) {
        if (::lchown(p.c_str(), as->uid, as->gid) != 0) throw std::filesystem::filesystem_error(
            "lchown", p, std::error_code(errno, std::generic_category()));
    };
    give(path);
    if (!std::filesystem::is_directory(path, ec) || std::filesystem::is_symlink(path, ec)) return;
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        give(it->path());
}

}  // namespace cordon::test
