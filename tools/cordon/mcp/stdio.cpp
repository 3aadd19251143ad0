// SPDX-License-Identifier: MIT
// cordon mcp: bounded line reading with poll (input and a wake-up descriptor), and whole-line writes.
#include "stdio.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cordon::mcp {

bool FdOutput::write_line(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return false;
    std::string data = line;
    data += '\n';
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            broken_ = true;  // SIGPIPE is ignored by `cordon mcp`, so a gone client is EPIPE here
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void FdLog::log(LogLevel level, const std::string& text) {
    if (level < threshold_) return;
    // Log lines quote what clients sent (names, paths); a control character in them must not
    // start a line of its own that reads like the server's.
    std::string line = "cordon mcp: " + std::string(to_string(level)) + ": ";
    static const char hex[] = "0123456789abcdef";
    for (unsigned char c : text) {
        if (c >= 0x20 && c != 0x7f) line += static_cast<char>(c);
        else line += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    }
    line += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

StopReason serve_lines(int in_fd, int wake_fd, std::size_t max_message_bytes, Server& server) {
    std::string line;
    std::size_t skipped = 0;  // > 0: inside an oversized line, this many bytes dropped so far
    char buf[65536];
    for (;;) {
        pollfd fds[2] = {{in_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
        if (::poll(fds, wake_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            return StopReason::read_error;
        }
        if (wake_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) return StopReason::woken;
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
        ssize_t n = ::read(in_fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
            // A last message without its newline still counts; a cut-off oversized one does not.
            if (skipped)
                server.handle_oversized(skipped, max_message_bytes);
            else if (!line.empty())
                server.handle_line(line);
            return n == 0 ? StopReason::end_of_input : StopReason::read_error;
        }
        const char* p = buf;
        const char* end = buf + n;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            const std::size_t take = static_cast<std::size_t>((nl ? nl : end) - p);
            if (skipped || line.size() + take > max_message_bytes) {
                skipped += line.size() + take;
                line.clear();
            } else {
                line.append(p, take);
            }
            if (!nl) break;
            if (skipped)
                server.handle_oversized(skipped, max_message_bytes);
            else
                server.handle_line(line);
            skipped = 0;
            line.clear();
            p = nl + 1;
        }
    }
}

}  // namespace cordon::mcp
