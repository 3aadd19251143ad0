// SPDX-License-Identifier: MIT
// cordon: starts a VerifiedExecutor from its open descriptor (POSIX), the reference for backends and tests.
#pragma once

#if !defined(_WIN32)

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/verified_executor.hpp"

namespace cordon::backend_sdk {

/// Starts the verified bytes with `args` (argv[0] is the executor's path) and exactly `env`
/// (nothing inherited). `stdout_fd` / `stderr_fd` >= 0 become the child's 1 / 2; stdin is
/// inherited. Linux: posix_spawn of `/proc/self/fd/N`, so the inode that was hashed is the one
/// executed even if the path now names another file. Elsewhere (macOS) the path is spawned after
/// checking that it still names the verified inode, which narrows but cannot close the window.
/// Returns the child's pid; the caller waits for it. Errors: execution_failed, untrusted_executor.
inline Result<pid_t> spawn_verified(const VerifiedExecutor& exe, const std::vector<std::string>& args,
                                    const std::vector<std::string>& env, int stdout_fd = -1, int stderr_fd = -1) {
    if (!exe.is_open())
        return make_error(ErrorCode::execution_failed, "executor was closed before launch", exe.path().string());
#if !defined(__linux__)
    struct stat held {}, named {};
    if (::fstat(exe.fd(), &held) != 0 || ::stat(exe.path().c_str(), &named) != 0 || held.st_dev != named.st_dev ||
        held.st_ino != named.st_ino)
        return make_error(ErrorCode::untrusted_executor, "executor path was replaced after verification",
                          exe.path().string());
#endif
    const std::string launch = exe.launch_path().string();
    const std::string argv0 = exe.path().string();
    std::vector<char*> argv{const_cast<char*>(argv0.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0)
        return make_error(ErrorCode::execution_failed, "posix_spawn_file_actions_init failed");
    int rc = 0;
    if (stdout_fd >= 0) rc = ::posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (rc == 0 && stderr_fd >= 0) rc = ::posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    pid_t pid = -1;
    if (rc == 0) rc = ::posix_spawn(&pid, launch.c_str(), &actions, nullptr, argv.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        return make_error(ErrorCode::execution_failed,
                          "cannot start the verified executor via " + launch + ": " + std::strerror(rc) +
                              (rc == ENOENT ? " (is /proc mounted?)" : ""),
                          exe.path().string());
    return pid;
}

}  // namespace cordon::backend_sdk

#endif  // !_WIN32
