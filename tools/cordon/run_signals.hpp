// SPDX-License-Identifier: MIT
// cordon run: SIGTERM, SIGINT and SIGHUP end the run through RunOptions::cancel_fd (a self-pipe).
#pragma once

namespace cordon::cli {

/// While alive (POSIX), SIGTERM, SIGINT and SIGHUP no longer end the process: their handler writes
/// the signal number into a self-pipe whose read end is a RunOptions::cancel_fd, so the runner kills
/// the workload's whole tree and returns, and cleanup (the config, the terminal's modes) happens as
/// on any other return. The previous dispositions come back on destruction. On Windows a no-op.
class CancelOnSignals {
public:
    CancelOnSignals();
    ~CancelOnSignals();
    CancelOnSignals(const CancelOnSignals&) = delete;
    CancelOnSignals& operator=(const CancelOnSignals&) = delete;

    /// The descriptor for RunOptions::cancel_fd; -1 where signals cannot cancel.
    int fd() const noexcept { return read_fd_; }
    /// The first signal that arrived, 0 if none did.
    int received() const noexcept;

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
    mutable int received_ = 0;
};

}  // namespace cordon::cli
