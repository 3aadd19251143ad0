// SPDX-License-Identifier: MIT
// cordon mcp: JSON-RPC 2.0 messages as MCP uses them: decoding one line, encoding replies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace cordon::mcp {

/// JSON-RPC 2.0 error codes (the spec's, plus one from the implementation-defined range).
namespace rpc_code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int server_busy = -32000;  ///< every tool-call slot and queue place is taken
}  // namespace rpc_code

/// A protocol error: code, one-sentence message, and the JSON pointer (into the message as
/// received, e.g. "/params/name") of the member at fault; empty when the message as a whole is.
struct RpcError {
    int code = rpc_code::internal_error;
    std::string message;
    std::string field;
};

/// One decoded JSON-RPC message.
struct Message {
    enum class Kind { request, notification, response, invalid };
    Kind kind = Kind::invalid;
    /// request: its id (a string or an integer, kept as received so it is echoed exactly);
    /// invalid: the id when one could be read, so the error can still be matched by the client.
    std::optional<boost::json::value> id;
    std::string method;
    boost::json::object params;  ///< empty when absent
    bool has_params = false;
    RpcError error;  ///< kind == invalid
};

/// A line: one message, or a batch (a JSON array) of them.
struct Decoded {
    bool batch = false;
    std::vector<Message> messages;  ///< exactly one unless `batch`; a batch error is one invalid message
};

struct DecodeLimits {
    std::size_t max_batch = 64;  ///< messages in one batch
};

/// Decodes one line of the stdio transport. Never throws: whatever is wrong (not JSON, invalid
/// UTF-8, duplicate keys, nesting deeper than 32, a member of the wrong type, unknown members, a
/// null/fractional/boolean id) becomes an invalid message whose error names the member.
Decoded decode_line(std::string_view line, const DecodeLimits& limits = {});

/// True for a JSON value MCP accepts as a request id: a string or an integer.
bool valid_request_id(const boost::json::value& id) noexcept;

/// A stable key for an id: the string id "1" and the integer id 1 are different requests.
std::string id_key(const boost::json::value& id);

/// {"jsonrpc":"2.0","id":ID,"result":RESULT}
std::string encode_result(const boost::json::value& id, boost::json::object result);
/// {"jsonrpc":"2.0","id":ID,"error":{"code","message","data":{"field"}}}; no id when it is unknown
/// (MCP's JSONRPCErrorResponse makes it optional; null is not a valid MCP id).
std::string encode_error(const std::optional<boost::json::value>& id, const RpcError& error);
/// {"jsonrpc":"2.0","method":METHOD,"params":PARAMS}
std::string encode_notification(std::string_view method, boost::json::object params);

/// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD, so it can be a JSON string.
std::string utf8_lossy(std::string_view s);

}  // namespace cordon::mcp
