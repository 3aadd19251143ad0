// SPDX-License-Identifier: MIT
// cordon: the JSON payloads of the backend ABI's run() (docs/backend-abi.md), encoded and decoded
// in one place for the host and every backend.
#pragma once

#include <cstdint>
#include <cstring>  // std::memcpy
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/detail/base64.hpp"
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

/// encode_result() in parts, so a backend can write the answer straight into the buffer it hands
/// over: the output (up to output_limit per stream) is base64-encoded once, into its place, and
/// never held as an intermediate string. `fields` is encode_result_fields(): every field but the
/// two outputs, as a JSON object.
CORDON_FUNC std::string encode_result_fields(const Status& status, const RunResult& r);
inline constexpr std::string_view result_stdout_key = "{\"stdout_b64\":\"";
inline constexpr std::string_view result_stderr_key = "\",\"stderr_b64\":\"";
inline std::size_t encoded_result_size(std::string_view fields, const RunResult& r) {
    return result_stdout_key.size() + base64_size(r.out.size()) + result_stderr_key.size() + base64_size(r.err.size()) +
           (fields.size() > 2 ? 2 + fields.size() - 1 : 2);
}
/// Writes encoded_result_size() bytes: {"stdout_b64":"..","stderr_b64":"..", then the fields.
inline char* write_result(char* out, std::string_view fields, const RunResult& r) {
    auto put = [&out](std::string_view s) {
        std::memcpy(out, s.data(), s.size());
        out += s.size();
    };
    put(result_stdout_key);
    out = base64_encode_to(out, r.out);
    put(result_stderr_key);
    out = base64_encode_to(out, r.err);
    put(fields.size() > 2 ? "\"," : "\"");  // fields "{...}" continue this object, "{}" closes it
    put(fields.size() > 2 ? fields.substr(1) : std::string_view("}"));
    return out;
}
/// The error object a backend's prepare() hands back on failure: {"message":..,"where":..}.
CORDON_FUNC std::string encode_prepare_error(const Error& e);
/// The Error of a prepare() that returned `status` != 0 with `text`: the status's code (an unknown
/// one: execution_failed) with the object's message and pointer, or a message saying there was none.
CORDON_FUNC Error decode_prepare_error(std::string_view text, int status);
/// Decodes a backend's result; a malformed result is an execution error, never a success.
CORDON_FUNC Result<RunResult> decode_result(std::string_view text);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/run_wire.hpp"
#endif
