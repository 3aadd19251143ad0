// SPDX-License-Identifier: MIT
// cordon: the JSON payloads of the backend ABI's run() (docs/backend-abi.md), encoded and decoded
// in one place for the host and every backend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/run_result.hpp"

namespace cordon::detail {

/// What the host asks a backend to run: an already clamped and validated config, the verified
/// executor, and the run options.
struct RunRequest {
    std::string config_json;
    std::string executor_path;     ///< absolute path of the verified executor (for messages, and on Windows)
    int executor_fd = -1;          ///< POSIX: open descriptor of the verified bytes; launch this, not the path
    std::string sdk_version;       ///< SDK version the executor was verified as
    std::uint32_t timeout_ms = 0;  ///< cordon's own wall-clock limit (0 = none)
    RunOptions options;
};

/// The request as the JSON payload of cordon_backend_v1::run().
CORDON_FUNC std::string encode_request(const RunRequest& r);
/// Errors: internal (the host sent something malformed).
CORDON_FUNC Result<RunRequest> decode_request(std::string_view text);
/// A backend's answer: the status of the run and what it produced.
CORDON_FUNC std::string encode_result(const Status& status, const RunResult& r);
/// Decodes a backend's result; a malformed result is an execution error, never a success.
CORDON_FUNC Result<RunResult> decode_result(std::string_view text);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/run_wire.hpp"
#endif
