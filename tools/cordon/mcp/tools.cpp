// SPDX-License-Identifier: MIT
// cordon mcp: the cancellation token and the heartbeat shared by every tool implementation.
#include "tools.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace cordon::mcp {

CancelToken::CancelToken() {
    int p[2];
#if defined(__linux__)
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return;
#else
    if (::pipe(p) != 0) return;
    for (int fd : p) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
    }
#endif
    read_fd_ = p[0];
    write_fd_ = p[1];
}

CancelToken::~CancelToken() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0) ::close(write_fd_);
}

void CancelToken::cancel() noexcept {
    if (cancelled_.exchange(true)) return;
    // One byte is enough: nobody reads it, so the read end stays readable for good.
    if (write_fd_ >= 0)
        while (::write(write_fd_, "c", 1) < 0 && errno == EINTR) {}
}

Heartbeat::Heartbeat(ProgressSink& sink, std::chrono::milliseconds interval, std::uint32_t total_ms) {
    const auto start = std::chrono::steady_clock::now();
    thread_ = std::thread([this, &sink, interval, total_ms, start] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
            std::optional<double> total;
            std::string message = "running for " + std::to_string(ms / 1000) + " s";
            if (total_ms > 0) {
                total = static_cast<double>(total_ms);
                message += " of at most " + std::to_string(total_ms / 1000) + " s";
            }
            lock.unlock();  // the sink writes to the client; never hold our lock across that
            sink.report(static_cast<double>(ms), total, message);
            lock.lock();
        }
    });
}

Heartbeat::~Heartbeat() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::string_view to_string(CallStatus s) noexcept {
    switch (s) {
        case CallStatus::completed:
            return "completed";
        case CallStatus::timed_out:
            return "timed_out";
        case CallStatus::cancelled:
            return "cancelled";
        case CallStatus::refused:
            return "refused";
        case CallStatus::failed:
            return "failed";
    }
    return "failed";
}

}  // namespace cordon::mcp
