// SPDX-License-Identifier: MIT
// cordon run --json: the command's stdout or stderr gathered in this process as it streams, held once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "cordon/error.hpp"

namespace cordon::cli {

/// A pipe whose write end is a run's output sink (RunOptions::stdout_fd or stderr_fd) and a thread
/// that appends what arrives to one string. With keep_streamed_output off the backend then keeps
/// only the stream's head: otherwise it held the whole output, and again as base64 in the buffer
/// it hands over, while the host decoded it (2.3x the output cap, bench/run_memory.sh). The runner
/// writes a sink within output_limit, so the string holds what RunResult::out / err would, except
/// that the executor's own closing `{"error":...}` object never reaches a stderr sink (its words
/// are RunResult::failure_message). POSIX only.
class OutputCollector {
public:
    /// `stream` names it in errors ("stdout"). Errors: io-error when the pipe or the thread cannot be made.
    static Result<OutputCollector> start(std::size_t output_limit, const char* stream);
    OutputCollector(OutputCollector&&) noexcept;
    OutputCollector& operator=(OutputCollector&&) = delete;
    ~OutputCollector();  ///< closes the write end and waits for the thread

    int sink() const noexcept;
    /// After the run: closes the write end, waits for the thread to read to EOF, returns the bytes.
    /// Errors: io-error when reading the pipe failed (the output would be incomplete).
    Result<std::string> finish();

private:
    struct State;
    explicit OutputCollector(std::unique_ptr<State> state) noexcept;
    std::unique_ptr<State> state_;
};

}  // namespace cordon::cli
