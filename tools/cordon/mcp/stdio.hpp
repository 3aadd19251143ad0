// SPDX-License-Identifier: MIT
// cordon mcp: the stdio transport: newline-delimited messages in, one writer out, logs to stderr.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include "server.hpp"

namespace cordon::mcp {

/// Writes whole lines to a descriptor, one writer at a time. After the first failed write (the
/// client went away: EPIPE), every later write fails at once.
class FdOutput : public OutputSink {
public:
    explicit FdOutput(int fd) : fd_(fd) {}
    bool write_line(const std::string& line) override;

private:
    int fd_;
    std::mutex mutex_;
    bool broken_ = false;
};

/// "cordon mcp: LEVEL: text" lines on a descriptor (stderr), from `threshold` up.
class FdLog : public LogSink {
public:
    FdLog(int fd, LogLevel threshold) : fd_(fd), threshold_(threshold) {}
    void log(LogLevel level, const std::string& text) override;

private:
    int fd_;
    LogLevel threshold_;
    std::mutex mutex_;
};

enum class StopReason { end_of_input, woken, read_error };

/// Reads `in_fd` line by line and hands each line to the server, until end of input or until
/// `wake_fd` (>= 0) becomes readable. A line longer than `max_message_bytes` is skipped up to
/// its newline without being kept in memory, and reported with Server::handle_oversized.
StopReason serve_lines(int in_fd, int wake_fd, std::size_t max_message_bytes, Server& server);

}  // namespace cordon::mcp
