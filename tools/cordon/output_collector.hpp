// SPDX-License-Identifier: MIT
// cordon run --json: the command's stdout gathered in this process as it streams, held once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "cordon/error.hpp"

namespace cordon::cli {

/// A pipe whose write end is the run's stdout sink (RunOptions::stdout_fd) and a thread that
/// appends what arrives to one string. With keep_streamed_output off the backend then keeps only
/// stdout's head: otherwise it held the whole output, and again as base64 in the buffer it hands
/// over, while the host decoded it (2.3x the output cap, bench/run_memory.sh). The runner writes
/// the sink within output_limit, so the string holds exactly what RunResult::out would. POSIX only.
class StdoutCollector {
public:
    /// Errors: io-error when the pipe or the thread cannot be made.
    static Result<StdoutCollector> start(std::size_t output_limit);
    StdoutCollector(StdoutCollector&&) noexcept;
    StdoutCollector& operator=(StdoutCollector&&) = delete;
    ~StdoutCollector();  ///< closes the write end and waits for the thread

    int sink() const noexcept;
    /// After the run: closes the write end, waits for the thread to read to EOF, returns the bytes.
    /// Errors: io-error when reading the pipe failed (the output would be incomplete).
    Result<std::string> finish();

private:
    struct State;
    explicit StdoutCollector(std::unique_ptr<State> state) noexcept;
    std::unique_ptr<State> state_;
};

}  // namespace cordon::cli
