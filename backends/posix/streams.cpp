// SPDX-License-Identifier: MIT
// cordon POSIX runner: bounded output capture with streaming sinks, and the stdin relay.
#include "streams.hpp"

#include <termios.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include "cordon/detail/executor_stderr.hpp"

namespace cordon::posix {
namespace {

// At most this much is written per POLLOUT: a pipe that polls writable takes a page without
// blocking, and a terminal has at least that much room in practice.
constexpr std::size_t sink_chunk = 4096;
constexpr std::size_t read_chunk = 65536;

bool transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

}  // namespace

OutputStream::OutputStream(Fd source, std::string* data, std::size_t* dropped, std::size_t limit, int sink,
                           bool sink_uncapped, std::size_t keep, bool hold_error_trailer, std::size_t keep_tail)
    : source_(std::move(source)), data_(data), dropped_(dropped), limit_(limit), keep_(std::min(keep, limit)),
      sink_(sink), sink_uncapped_(sink_uncapped), hold_error_trailer_(hold_error_trailer), keep_tail_(keep_tail) {}

namespace {

constexpr std::string_view trailer_start = "{\"error\":";

// `s` (from a `{"error":`) can still become an executor's closing error object: one line, and
// once its braces close, nothing but whitespace after them.
bool could_be_trailer(std::string_view s) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\n' && depth > 0) return false;
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{') ++depth;
        else if (c == '}' && --depth == 0)
            return s.substr(i + 1).find_first_not_of(" \t\r\n") == std::string_view::npos;
    }
    return true;
}

// Where the part of `s` that might be (the start of) an error trailer begins; s.size() for none.
std::size_t held_from(std::string_view s) {
    auto at = s.rfind(trailer_start);
    if (at != std::string_view::npos && s.size() - at <= OutputStream::max_held_trailer && could_be_trailer(s.substr(at)))
        return at;
    for (std::size_t n = std::min(s.size(), trailer_start.size() - 1); n > 0; --n)  // a start cut by a read
        if (s.substr(s.size() - n) == trailer_start.substr(0, n)) return s.size() - n;
    return s.size();
}

}  // namespace

void OutputStream::to_sink(const char* buf, std::size_t n) {
    if (pending_at_ == pending_.size()) {
        pending_.clear();
        pending_at_ = 0;
    }
    if (!hold_error_trailer_) {
        pending_.append(buf, n);
        return;
    }
    held_.append(buf, n);
    const std::size_t cut = held_from(held_);
    pending_.append(held_, 0, cut);
    held_.erase(0, cut);
}

void OutputStream::release_held() {
    if (held_.empty()) return;
    if (!detail::trailing_error_object(held_)) pending_ += held_;
    held_.clear();
}

void OutputStream::keep_tail_bytes() {
    if (tail_.size() > keep_tail_) tail_.erase(0, tail_.size() - keep_tail_);
    data_->append(tail_);
    tail_.clear();
}

void OutputStream::keep(const char* buf, std::size_t n) {
    std::size_t kept = std::min(n, limit_ - accepted_);
    accepted_ += kept;
    std::size_t stored = std::min(kept, keep_ - std::min(keep_, data_->size()));
    if (stored > 0) {
        // Doubling, but never past the limit: reserve() on a non-empty libstdc++ string may round a
        // small step up to twice the old capacity, so the bytes move into a fresh, exact buffer.
        if (data_->size() + stored > data_->capacity()) {
            std::string fresh;
            fresh.reserve(std::min(keep_, std::max(data_->size() + stored, data_->capacity() * 2)));
            fresh.append(*data_);
            data_->swap(fresh);
        }
        data_->append(buf, stored);
    }
    if (keep_tail_ > 0 && kept > stored) {  // a ring in one string: cut back to keep_tail_ at twice that
        tail_.append(buf + stored, kept - stored);
        if (tail_.size() > 2 * keep_tail_) tail_.erase(0, tail_.size() - keep_tail_);
    }
    *dropped_ += n - kept;
    if (sink_ >= 0) to_sink(buf, sink_uncapped_ ? n : kept);
}

bool OutputStream::read_some() {
    if (!source_) return false;
    char buf[read_chunk];
    ssize_t n = ::read(source_.get(), buf, sizeof buf);
    if (n < 0 && transient(errno)) return false;
    if (n <= 0) {  // EOF; EIO from a terminal master once every slave descriptor is closed
        source_.reset();
        return false;
    }
    keep(buf, static_cast<std::size_t>(n));
    return true;
}

void OutputStream::write_sink() {
    if (sink_ < 0 || pending_at_ >= pending_.size()) return;
    std::size_t n = std::min(sink_chunk, pending_.size() - pending_at_);
    ssize_t w = write_no_sigpipe(sink_, pending_.data() + pending_at_, n);
    if (w < 0 && transient(errno)) return;
    if (w <= 0) {
        // The reader of the sink is gone: pass that on to the command (its next write fails) rather
        // than letting it run on into a void.
        drop_sink();
        source_.reset();
        return;
    }
    pending_at_ += static_cast<std::size_t>(w);
    if (pending_at_ == pending_.size()) {
        pending_.clear();
        pending_at_ = 0;
    }
}

InputRelay::InputRelay(int source, Fd owned_dest) : source_(source), owned_(std::move(owned_dest)) {}

InputRelay::InputRelay(int source, int terminal_master) : source_(source), master_(terminal_master) {}

void InputRelay::read_some() {
    if (source_ < 0) return;
    char buf[read_chunk];
    ssize_t n = ::read(source_, buf, sizeof buf);
    if (n < 0 && transient(errno)) return;
    if (n <= 0) {
        source_ = -1;
        if (master_ >= 0) {
            // The caller's input ended: tell a line-reading program, as a typed ^D would.
            struct termios t;
            if (::tcgetattr(master_, &t) == 0 && (t.c_lflag & ICANON)) pending_.push_back(static_cast<char>(t.c_cc[VEOF]));
        }
        finish_if_drained();
        return;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
}

void InputRelay::write_some() {
    if (dest() < 0 || pending_at_ >= pending_.size()) return;
    ssize_t w = write_no_sigpipe(dest(), pending_.data() + pending_at_, pending_.size() - pending_at_);
    if (w < 0 && transient(errno)) return;
    if (w <= 0) {  // the command closed its stdin (EPIPE) or the terminal is gone: stop relaying
        stop();
        return;
    }
    pending_at_ += static_cast<std::size_t>(w);
    if (pending_at_ == pending_.size()) {
        pending_.clear();
        pending_at_ = 0;
        finish_if_drained();
    }
}

void InputRelay::finish_if_drained() {
    if (source_ < 0 && pending_.empty()) owned_.reset();  // EOF for the command's stdin pipe
}

void InputRelay::stop() {
    source_ = -1;
    pending_.clear();
    pending_at_ = 0;
    owned_.reset();
    master_ = -1;
}

}  // namespace cordon::posix
