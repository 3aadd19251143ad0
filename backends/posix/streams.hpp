// SPDX-License-Identifier: MIT
// cordon POSIX runner: the executor's output (bounded copy + streaming sink) and its stdin relay.
#pragma once

#include <cstddef>
#include <string>

#include "fd.hpp"

namespace cordon::posix {

/// One output stream of the executor (a pipe, or the pseudo-terminal's master). Its first `limit`
/// bytes are accepted, the rest counted in `*dropped`; of the accepted ones the first `keep` (at
/// most `limit`) are kept in `*data`, and with `keep_tail` also the last `keep_tail` of those after
/// them, appended to `*data` by keep_tail_bytes() at the end (what the failure classification of a
/// streamed stderr reads: the executor's closing words follow the workload's output). With a sink,
/// bytes are also written there in arrival order: the accepted bytes only, or every byte when
/// `sink_uncapped` (interactive).
/// The source is read only while nothing waits for the sink, so a slow sink slows the command
/// (the pipe fills) instead of growing memory; the runner never blocks on either side.
///
/// With `hold_error_trailer` (stderr), what could be the executor's own closing `{"error":...}`
/// object (MXC executors append it to their stderr after a timeout or a failure, which the runner
/// reports itself) is held back from the sink, at most max_held_trailer bytes: release_held()
/// at the end drops it when it is such an object and nothing else followed, and passes it on
/// otherwise. `*data` always keeps every byte.
class OutputStream {
public:
    OutputStream(Fd source, std::string* data, std::size_t* dropped, std::size_t limit, int sink, bool sink_uncapped,
                 std::size_t keep, bool hold_error_trailer = false, std::size_t keep_tail = 0);

    /// The longest text held back as a possible error trailer; longer text cannot be one.
    static constexpr std::size_t max_held_trailer = 4096;

    bool source_open() const { return static_cast<bool>(source_); }
    int source_fd() const { return source_.get(); }
    /// Poll the source for POLLIN now (open, and the sink has caught up).
    bool wants_read() const { return source_open() && pending_.empty(); }
    /// Poll the sink for POLLOUT now.
    bool wants_sink() const { return sink_ >= 0 && !pending_.empty(); }
    int sink_fd() const { return sink_; }
    /// Nothing more will come: source closed and the sink has everything (or is broken).
    bool done() const { return !source_open() && pending_.empty(); }

    /// Reads once; closes the source on EOF, on EIO (a pseudo-terminal whose other side is gone)
    /// and on errors. False when nothing was read.
    bool read_some();
    /// Writes one chunk of what waits for the sink. A broken sink (EPIPE, EBADF, ...) is dropped,
    /// and the source is closed so the command's next write fails as it would have on that sink.
    void write_sink();
    /// Stops reading (end of the run): the source is closed; pending sink bytes stay.
    void close_source() { source_.reset(); }
    /// Gives up on the sink: what waits for it is discarded.
    void drop_sink() {
        sink_ = -1;
        pending_.clear();
        pending_at_ = 0;
        held_.clear();
    }
    /// The end of the run: a held error trailer is dropped, any other held text goes to the sink.
    void release_held();
    /// The end of the run: the kept tail follows the kept head in `*data`.
    void keep_tail_bytes();

private:
    void keep(const char* buf, std::size_t n);
    void to_sink(const char* buf, std::size_t n);

    Fd source_;
    std::string* data_;
    std::size_t* dropped_;
    std::size_t limit_;
    std::size_t keep_;
    std::size_t accepted_ = 0;  // of limit_
    int sink_;
    bool sink_uncapped_;
    std::string pending_;  // read, not yet written to the sink (from pending_at_ on)
    std::size_t pending_at_ = 0;
    bool hold_error_trailer_;
    std::string held_;  // the sink's possible error trailer, not yet in pending_
    std::size_t keep_tail_;
    std::string tail_;  // the latest accepted bytes after the head: keep_tail_ to twice that
};

/// Copies the caller's input descriptor (borrowed; it may be a terminal or a file opened for
/// writing, so the command never gets it) into `dest`: the write end of the command's stdin pipe
/// (owned; closed at the source's EOF so the command sees EOF) or the pseudo-terminal's master
/// (borrowed; at EOF the terminal's EOF character is written once when it is in canonical mode).
class InputRelay {
public:
    InputRelay() = default;
    InputRelay(int source, Fd owned_dest);          ///< pass: a pipe
    InputRelay(int source, int terminal_master);    ///< interactive: the master

    bool wants_read() const { return source_ >= 0 && pending_.empty() && dest() >= 0; }
    bool wants_write() const { return dest() >= 0 && !pending_.empty(); }
    int source_fd() const { return source_; }
    int dest_fd() const { return dest(); }

    void read_some();
    void write_some();
    /// The command is gone (or the master closed): no more reading of the caller's input.
    void stop();

private:
    int dest() const { return owned_ ? owned_.get() : master_; }
    void finish_if_drained();

    int source_ = -1;
    Fd owned_;
    int master_ = -1;
    std::string pending_;
    std::size_t pending_at_ = 0;
};

}  // namespace cordon::posix
