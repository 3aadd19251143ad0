// SPDX-License-Identifier: MIT
// cordon run --json: an output collector's pipe and reader thread.
#include "output_collector.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#if !defined(_WIN32)
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <system_error>
#include <thread>
#endif

namespace cordon::cli {

#if defined(_WIN32)

// No streaming sinks on Windows yet (RunOptions): the result keeps both streams, and nothing starts this.
struct OutputCollector::State {};
Result<OutputCollector> OutputCollector::start(std::size_t, const char* stream) {
    return make_error(ErrorCode::backend_unsupported, std::string("collecting ") + stream + " through a pipe is POSIX only");
}
Result<std::string> OutputCollector::finish() { return std::string(); }
OutputCollector::~OutputCollector() = default;
int OutputCollector::sink() const noexcept { return -1; }

#else

struct OutputCollector::State {
    int read_fd = -1;
    int write_fd = -1;
    std::string bytes;
    int read_errno = 0;
    const char* stream = "";
    std::thread reader;

    // Out of memory (a cap too large to reserve): the bytes are lost, which finish() reports; the
    // pipe is still read to its end, so the runner never waits on it.
    void read_to_eof() {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(read_fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (n < 0 && read_errno == 0) read_errno = errno;
                return;
            }
            if (read_errno != 0) continue;
            try {
                bytes.append(buf, static_cast<std::size_t>(n));
            } catch (const std::bad_alloc&) {
                read_errno = ENOMEM;
                std::string().swap(bytes);
            }
        }
    }
    void stop() {
        if (write_fd >= 0) ::close(write_fd), write_fd = -1;
        if (reader.joinable()) reader.join();
        if (read_fd >= 0) ::close(read_fd), read_fd = -1;
    }
};

Result<OutputCollector> OutputCollector::start(std::size_t output_limit, const char* stream) {
    auto state = std::make_unique<State>();
    state->stream = stream;
    int p[2];
    if (::pipe(p) != 0)
        return make_error(ErrorCode::io_error, std::string("cannot make a pipe for ") + stream + ": " + std::strerror(errno));
    state->read_fd = p[0];
    state->write_fd = p[1];
    for (int fd : p) ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // the executor must not hold either end
    // Reserved, not touched: the pages count only once written, and the string never moves (a
    // doubling copy would hold the old and the new buffer at once). Too large to reserve: it grows.
    try {
        state->bytes.reserve(std::min(output_limit, std::size_t{1} << 30));
    } catch (const std::bad_alloc&) {
    }
    // The thread takes no signal: CancelOnSignals' handler is for the main thread's run.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        state->reader = std::thread([s = state.get()] { s->read_to_eof(); });
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        state->stop();
        return make_error(ErrorCode::io_error, std::string("cannot start the ") + stream + " reader: " + e.what());
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return OutputCollector(std::move(state));
}

OutputCollector::~OutputCollector() {
    if (state_) state_->stop();
}

int OutputCollector::sink() const noexcept { return state_ ? state_->write_fd : -1; }

Result<std::string> OutputCollector::finish() {
    state_->stop();
    if (state_->read_errno != 0)
        return make_error(ErrorCode::io_error, std::string("reading the command's ") + state_->stream + " failed: " +
                                                   std::strerror(state_->read_errno));
    return std::move(state_->bytes);
}

#endif

OutputCollector::OutputCollector(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
OutputCollector::OutputCollector(OutputCollector&&) noexcept = default;

}  // namespace cordon::cli
