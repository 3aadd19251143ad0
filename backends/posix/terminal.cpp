// SPDX-License-Identifier: MIT
// cordon POSIX runner: pseudo-terminal allocation (posix_openpt) and raw mode of the operator's terminal.
#include "terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace cordon::posix {
namespace {

Error terminal_error(const std::string& step, int err) {
    return make_error(ErrorCode::execution_failed, "cannot create the run's pseudo-terminal: " + step + ": " +
                                                       errno_text(err));
}

}  // namespace

Result<RunTerminal> open_run_terminal(int like) {
    RunTerminal t;
    int flags = O_RDWR | O_NOCTTY;
#if defined(O_CLOEXEC)
    flags |= O_CLOEXEC;
#endif
    t.master.reset(::posix_openpt(flags));
    if (!t.master) return terminal_error("posix_openpt", errno);
    ::fcntl(t.master.get(), F_SETFD, FD_CLOEXEC);
    if (::grantpt(t.master.get()) != 0) return terminal_error("grantpt", errno);
    if (::unlockpt(t.master.get()) != 0) return terminal_error("unlockpt", errno);
    std::string name;
#if defined(__linux__)
    char buf[128];
    if (::ptsname_r(t.master.get(), buf, sizeof buf) != 0) return terminal_error("ptsname", errno);
    name = buf;
#else
    const char* n = ::ptsname(t.master.get());  // not thread-safe where ptsname_r is missing
    if (!n) return terminal_error("ptsname", errno);
    name = n;
#endif
    t.slave.reset(::open(name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!t.slave) return terminal_error("open " + name, errno);
    if (!lift_above_stdio(t.master) || !lift_above_stdio(t.slave)) return terminal_error("fcntl", errno);
    if (like >= 0 && ::isatty(like)) {
        struct termios modes;
        if (::tcgetattr(like, &modes) == 0) ::tcsetattr(t.slave.get(), TCSANOW, &modes);
        struct winsize size;
        if (::ioctl(like, TIOCGWINSZ, &size) == 0) ::ioctl(t.master.get(), TIOCSWINSZ, &size);
    }
    if (::fcntl(t.master.get(), F_SETFL, O_NONBLOCK) != 0) return terminal_error("fcntl(O_NONBLOCK)", errno);
    return t;
}

RawMode::RawMode(int fd) {
    struct termios t;
    if (fd < 0 || !::isatty(fd) || ::tcgetattr(fd, &t) != 0) return;
    saved_ = t;
    fd_ = fd;
    ::cfmakeraw(&t);
    ::tcsetattr(fd, TCSANOW, &t);
}

RawMode::~RawMode() {
    if (saved_) ::tcsetattr(fd_, TCSANOW, &*saved_);
}

}  // namespace cordon::posix
