// SPDX-License-Identifier: MIT
// cordon run: the self-pipe signal handler behind CancelOnSignals.
#include "run_signals.hpp"

#if !defined(_WIN32)
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace cordon::cli {

#if !defined(_WIN32)
namespace {

constexpr int handled[] = {SIGTERM, SIGINT, SIGHUP};
volatile sig_atomic_t pipe_write_fd = -1;
struct sigaction previous[3];

// Async-signal-safe: one write to a non-blocking pipe; errno is left as it was found.
extern "C" void on_signal(int sig) {
    int saved = errno;
    unsigned char number = static_cast<unsigned char>(sig);
    if (pipe_write_fd >= 0) {
        ssize_t ignored = ::write(pipe_write_fd, &number, 1);
        (void)ignored;
    }
    errno = saved;
}

}  // namespace

CancelOnSignals::CancelOnSignals() {
    int p[2];
    if (::pipe(p) != 0) return;
    for (int fd : p) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
    }
    read_fd_ = p[0];
    write_fd_ = p[1];
    pipe_write_fd = write_fd_;
    for (int i = 0; i < 3; ++i) {
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        ::sigaction(handled[i], &sa, &previous[i]);
    }
}

CancelOnSignals::~CancelOnSignals() {
    if (read_fd_ < 0) return;
    for (int i = 0; i < 3; ++i) ::sigaction(handled[i], &previous[i], nullptr);
    pipe_write_fd = -1;
    ::close(write_fd_);
    ::close(read_fd_);
}

int CancelOnSignals::received() const noexcept {
    unsigned char number = 0;
    if (received_ == 0 && read_fd_ >= 0 && ::read(read_fd_, &number, 1) == 1) received_ = number;
    return received_;
}

#else
CancelOnSignals::CancelOnSignals() = default;
CancelOnSignals::~CancelOnSignals() = default;
int CancelOnSignals::received() const noexcept { return 0; }
#endif

}  // namespace cordon::cli
