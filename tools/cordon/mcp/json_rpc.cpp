// SPDX-License-Identifier: MIT
// cordon mcp: the JSON-RPC envelope, checked member by member so every error names its field.
#include "json_rpc.hpp"

#include <exception>

#include <boost/json/serialize.hpp>

#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/detail/utf8.hpp"

namespace cordon::mcp {
namespace {

Message invalid(int code, std::string message, std::string field, std::optional<boost::json::value> id = {}) {
    Message m;
    m.kind = Message::Kind::invalid;
    m.error = RpcError{code, std::move(message), std::move(field)};
    m.id = std::move(id);
    return m;
}

const char* kind_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            return "an integer";
        case boost::json::kind::double_:
            return "a number with a fraction or exponent";
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
    }
    return "?";
}

// One element of a line (the whole line, or one member of a batch at `at`).
Message decode_value(const boost::json::value& v, const std::string& at) {
    if (!v.is_object())
        return invalid(rpc_code::invalid_request, std::string("a JSON-RPC message is an object, not ") + kind_name(v),
                       at);
    const boost::json::object& o = v.get_object();
    // The id first: an error about any other member can then still be matched to its request.
    std::optional<boost::json::value> id;
    if (const auto* i = o.if_contains("id")) {
        if (!valid_request_id(*i))
            return invalid(rpc_code::invalid_request,
                           std::string("id must be a string or an integer, not ") + kind_name(*i),
                           detail::pointer_child(at, "id"));
        id = *i;
    }
    for (const auto& member : o) {
        std::string_view key(member.key().data(), member.key().size());
        if (key != "jsonrpc" && key != "id" && key != "method" && key != "params" && key != "result" && key != "error")
            return invalid(rpc_code::invalid_request,
                           "unknown member \"" + utf8_lossy(key) + "\" in a JSON-RPC message",
                           detail::pointer_child(at, key), id);
    }
    const auto* version = o.if_contains("jsonrpc");
    if (!version || !version->is_string() || version->get_string() != "2.0")
        return invalid(rpc_code::invalid_request, "jsonrpc must be the string \"2.0\"",
                       detail::pointer_child(at, "jsonrpc"), id);
    const auto* method = o.if_contains("method");
    if (!method) {
        const bool result = o.contains("result"), error = o.contains("error");
        if (!result && !error)
            return invalid(rpc_code::invalid_request, "neither a request (method) nor a response (result or error)", at,
                           id);
        if (result && error)
            return invalid(rpc_code::invalid_request, "a response has a result or an error, not both", at, id);
        if (!id) return invalid(rpc_code::invalid_request, "a response needs an id", detail::pointer_child(at, "id"));
        Message m;
        m.kind = Message::Kind::response;
        m.id = std::move(id);
        return m;
    }
    if (!method->is_string() || method->get_string().empty())
        return invalid(rpc_code::invalid_request, "method must be a non-empty string",
                       detail::pointer_child(at, "method"), id);
    if (o.contains("result") || o.contains("error"))
        return invalid(rpc_code::invalid_request, "a request or notification has no result or error", at, id);
    Message m;
    m.kind = id ? Message::Kind::request : Message::Kind::notification;
    m.id = std::move(id);
    m.method = std::string(method->get_string());
    if (const auto* params = o.if_contains("params")) {
        // JSON-RPC also allows by-position params; MCP only ever names them.
        if (!params->is_object()) {
            Message bad =
                invalid(rpc_code::invalid_params, std::string("params must be an object, not ") + kind_name(*params),
                        detail::pointer_child(at, "params"), m.id);
            bad.method = m.method;
            return bad;
        }
        m.params = params->get_object();
        m.has_params = true;
    }
    return m;
}

}  // namespace

bool valid_request_id(const boost::json::value& id) noexcept {
    return id.is_string() || id.is_int64() || id.is_uint64();
}

std::string id_key(const boost::json::value& id) {
    if (id.is_string()) return "s:" + std::string(id.get_string());
    return "n:" + boost::json::serialize(id);
}

Decoded decode_line(std::string_view line, const DecodeLimits& limits) {
    Decoded out;
    try {
        boost::json::value doc;
        Violation violation;
        if (!detail::parse_strict_json(line, doc, violation)) {
            out.messages.push_back(
                invalid(rpc_code::parse_error, "not a JSON-RPC message: " + violation.message, violation.pointer));
            return out;
        }
        if (!doc.is_array()) {
            out.messages.push_back(decode_value(doc, ""));
            return out;
        }
        const boost::json::array& batch = doc.get_array();
        out.batch = true;
        if (batch.empty()) {
            out.batch = false;  // JSON-RPC: an empty batch gets one error, not an empty array
            out.messages.push_back(invalid(rpc_code::invalid_request, "an empty batch is not a message", ""));
            return out;
        }
        if (batch.size() > limits.max_batch) {
            out.batch = false;
            out.messages.push_back(invalid(rpc_code::invalid_request,
                                           "a batch of " + std::to_string(batch.size()) +
                                               " messages exceeds the limit of " + std::to_string(limits.max_batch),
                                           ""));
            return out;
        }
        for (std::size_t i = 0; i < batch.size(); ++i)
            out.messages.push_back(decode_value(batch[i], detail::pointer_child("", i)));
    } catch (const std::exception& e) {
        // Allocation failure or a bug in a dependency: still an answer, never a crash.
        out = Decoded{};
        out.messages.push_back(
            invalid(rpc_code::internal_error, std::string("cannot decode the message: ") + e.what(), ""));
    }
    return out;
}

std::string encode_result(const boost::json::value& id, boost::json::object result) {
    boost::json::object o;
    o["jsonrpc"] = "2.0";
    o["id"] = id;
    o["result"] = std::move(result);
    return boost::json::serialize(o);
}

std::string encode_error(const std::optional<boost::json::value>& id, const RpcError& error) {
    boost::json::object e;
    e["code"] = error.code;
    e["message"] = utf8_lossy(error.message);
    if (!error.field.empty()) e["data"] = boost::json::object{{"field", utf8_lossy(error.field)}};
    boost::json::object o;
    o["jsonrpc"] = "2.0";
    if (id) o["id"] = *id;
    o["error"] = std::move(e);
    return boost::json::serialize(o);
}

std::string encode_notification(std::string_view method, boost::json::object params) {
    boost::json::object o;
    o["jsonrpc"] = "2.0";
    o["method"] = method;
    o["params"] = std::move(params);
    return boost::json::serialize(o);
}

std::string utf8_lossy(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t j = i;
        std::uint32_t c;
        if (detail::utf8_next(s, j, c)) {
            out.append(s.data() + i, j - i);
            i = j;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

}  // namespace cordon::mcp
