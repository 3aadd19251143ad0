// SPDX-License-Identifier: MIT
// cordon POSIX runner: an owned descriptor, close-on-exec pipes, and writes that never raise SIGPIPE.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <ctime>
#include <string>
#include <system_error>
#include <utility>

namespace cordon::posix {

inline std::string errno_text(int err) { return std::generic_category().message(err); }

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset(std::exchange(o.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// A pipe whose both ends are close-on-exec from birth, so a fork in another thread of the
// embedding program never carries them past its exec.
inline bool make_pipe(Fd& read_end, Fd& write_end) {
    int p[2];
#if defined(__linux__)
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
#else
    if (::pipe(p) != 0) return false;  // no pipe2: a concurrent fork+exec may briefly hold these
    ::fcntl(p[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(p[1], F_SETFD, FD_CLOEXEC);
#endif
    read_end.reset(p[0]);
    write_end.reset(p[1]);
    return true;
}

// The child dup2()s onto 0, 1 and 2; a source that already is one of them (an embedder with a
// closed stdin) would be clobbered, so every descriptor the child needs lives at 3 or above.
inline bool lift_above_stdio(Fd& fd) {
    if (!fd || fd.get() > 2) return true;
    int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (lifted < 0) return false;
    fd.reset(lifted);
    return true;
}

/// write() that reports a reader-less pipe as EPIPE without raising SIGPIPE in the embedding
/// process: SIGPIPE is blocked in this thread around the write and the one the write raised (a
/// thread-directed signal) is consumed, unless one was already pending before.
inline ssize_t write_no_sigpipe(int fd, const void* data, std::size_t size) {
    sigset_t pipe_only, saved, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
    sigemptyset(&pending);
    ::sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ssize_t n = ::write(fd, data, size);
    int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
#if defined(__linux__)
        timespec zero{0, 0};
        while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {}
#else
        int sig = 0;
        sigemptyset(&pending);
        if (::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) ::sigwait(&pipe_only, &sig);
#endif
    }
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    errno = err;
    return n;
}

}  // namespace cordon::posix
