// SPDX-License-Identifier: MIT
// cordon POSIX runner: a pseudo-terminal of the run's own, and the operator's terminal in raw mode meanwhile.
#pragma once

#include <termios.h>

#include <optional>

#include "cordon/error.hpp"
#include "fd.hpp"

namespace cordon::posix {

/// A new pseudo-terminal pair: the runner keeps the master (non-blocking) and the child makes
/// the slave its controlling terminal. When `like` is a terminal, the slave starts with its modes
/// and window size (as `script` does), so the program inside sees the operator's terminal settings.
struct RunTerminal {
    Fd master;
    Fd slave;
};

/// Errors: execution_failed naming the step (posix_openpt, grantpt, unlockpt, ptsname, open).
Result<RunTerminal> open_run_terminal(int like);

/// While alive, `fd` (when it is a terminal) is in raw mode, so every key, ^C included, reaches the
/// run's own terminal, whose line discipline then acts on it for the program inside. The previous
/// modes come back on destruction.
class RawMode {
public:
    explicit RawMode(int fd);
    ~RawMode();
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

private:
    int fd_ = -1;
    std::optional<struct termios> saved_;
};

}  // namespace cordon::posix
