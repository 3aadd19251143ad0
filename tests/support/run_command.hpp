// SPDX-License-Identifier: MIT
// Test support: run a program with argv (no shell), feed stdin, capture stdout, stderr and exit status.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace cordon::test {

struct CommandResult {
    int exit_code = -1;  ///< exit status, or 128 + signal
    std::string out;
    std::string err;
};

/// Runs `argv` (PATH searched) with `input` on stdin and `extra_env` added, in `cwd` when given.
inline CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                                 const std::vector<std::string>& extra_env = {}, const std::string& cwd = "") {
    int in[2], out[2], err[2];
    if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
        for (const auto& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    CommandResult result;
    std::size_t written = 0;
    if (input.empty()) { close(in[1]); in[1] = -1; }
    else fcntl(in[1], F_SETFL, O_NONBLOCK);
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        if (poll(fds, in[1] >= 0 ? 3 : 2, -1) < 0 && errno != EINTR) break;
        char buf[65536];
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            else (i == 0 ? out_open : err_open) = false;
        }
        if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in[1], input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) { close(in[1]); in[1] = -1; }
        }
    }
    if (in[1] >= 0) close(in[1]);
    close(out[0]);
    close(err[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

/// Environment variable that a test needs; fails the test run loudly when the build did not set it.
inline std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (!value) throw std::runtime_error(std::string("test environment lacks ") + name + " (run through meson test)");
    return value;
}

}  // namespace cordon::test
