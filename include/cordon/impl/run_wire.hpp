// SPDX-License-Identifier: MIT
// cordon: implementation of detail/run_wire.hpp (Boost.JSON).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/detail/run_result_json.hpp"
#include "cordon/detail/run_wire.hpp"

namespace cordon::detail {
namespace wire {

// A wire enum by its name; anything else is a malformed message (`field` names it).
template <class E>
E named(const boost::json::value& v, const char* field) {
    if (auto e = enum_from_string<E>(std::string_view(v.as_string()))) return *e;
    throw std::invalid_argument(field);
}

// Limits travel as an object with only the limits that are set ({} = none).
inline boost::json::object encode_limits(const Limits& l) {
    boost::json::object o;
    auto put = [&o](const char* key, const std::optional<std::uint64_t>& v) {
        if (v) o[key] = *v;
    };
    put("processes", l.processes);
    put("address_space_bytes", l.address_space_bytes);
    put("memory_bytes", l.memory_bytes);
    put("cpu_seconds", l.cpu_seconds);
    put("file_size_bytes", l.file_size_bytes);
    put("open_files", l.open_files);
    return o;
}

// An unknown key is an error: a limit this side does not know must not be dropped silently.
inline Limits decode_limits(const boost::json::object& o) {
    Limits l;
    for (const auto& kv : o) {
        std::uint64_t v = kv.value().to_number<std::uint64_t>();
        if (kv.key() == "processes") l.processes = v;
        else if (kv.key() == "address_space_bytes") l.address_space_bytes = v;
        else if (kv.key() == "memory_bytes") l.memory_bytes = v;
        else if (kv.key() == "cpu_seconds") l.cpu_seconds = v;
        else if (kv.key() == "file_size_bytes") l.file_size_bytes = v;
        else if (kv.key() == "open_files") l.open_files = v;
        else throw std::invalid_argument("unknown limit '" + std::string(kv.key()) + "'");
    }
    return l;
}

inline int fd_field(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);  // absent from older hosts
    return v ? static_cast<int>(v->to_number<std::int64_t>()) : -1;
}

}  // namespace wire

CORDON_FUNC std::string encode_request(const RunRequest& r) {
    boost::json::object o;
    o["config"] = r.config_json;
    o["executor"] = boost::json::object{{"path", r.executor_path}, {"fd", r.executor_fd}};
    o["sdk_version"] = r.sdk_version;
    o["timeout_ms"] = r.timeout_ms;
    o["config_delivery"] = to_string(r.options.delivery);
    o["grace_ms"] = r.options.grace_ms;
    o["output_limit"] = r.options.output_limit;
    o["dry_run"] = r.options.dry_run;
    o["cancel_fd"] = r.options.cancel_fd;
    o["stdin"] = to_string(r.options.stdin_mode);
    o["stdin_fd"] = r.options.stdin_fd;
    o["stdout_fd"] = r.options.stdout_fd;
    o["stderr_fd"] = r.options.stderr_fd;
    o["keep_streamed"] = r.options.keep_streamed_output;
    if (r.options.run_as) o["run_as"] = boost::json::object{{"uid", r.options.run_as->uid}, {"gid", r.options.run_as->gid}};
    o["limits"] = wire::encode_limits(r.options.limits);
    return boost::json::serialize(o);
}

CORDON_FUNC Result<RunRequest> decode_request(std::string_view text) {
    try {
        boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()));
        const auto& o = v.as_object();
        RunRequest r;
        r.config_json = std::string(o.at("config").as_string());
        r.executor_path = std::string(o.at("executor").at("path").as_string());
        r.executor_fd = static_cast<int>(o.at("executor").at("fd").to_number<std::int64_t>());
        r.sdk_version = std::string(o.at("sdk_version").as_string());
        r.timeout_ms = o.at("timeout_ms").to_number<std::uint32_t>();
        r.options.delivery = wire::named<ConfigDelivery>(o.at("config_delivery"), "config_delivery");
        r.options.grace_ms = o.at("grace_ms").to_number<std::uint32_t>();
        r.options.output_limit = o.at("output_limit").to_number<std::size_t>();
        r.options.dry_run = o.at("dry_run").as_bool();
        const auto* cancel = o.if_contains("cancel_fd");  // absent from hosts older than cancellation
        r.options.cancel_fd = cancel ? static_cast<int>(cancel->to_number<std::int64_t>()) : -1;
        // The fields below are absent from hosts older than them: absent = that older behaviour.
        if (const auto* in = o.if_contains("stdin")) r.options.stdin_mode = wire::named<StdinMode>(*in, "stdin");
        r.options.stdin_fd = wire::fd_field(o, "stdin_fd");
        r.options.stdout_fd = wire::fd_field(o, "stdout_fd");
        r.options.stderr_fd = wire::fd_field(o, "stderr_fd");
        const auto* keep = o.if_contains("keep_streamed");  // absent from older hosts: keep
        r.options.keep_streamed_output = !keep || keep->as_bool();
        if (const auto* as = o.if_contains("run_as")) {
            const auto& ids = as->as_object();
            if (ids.size() != 2) throw std::invalid_argument("run_as: expected exactly uid and gid");
            r.options.run_as = RunAs{ids.at("uid").to_number<std::uint32_t>(), ids.at("gid").to_number<std::uint32_t>()};
        }
        if (const auto* limits = o.if_contains("limits")) r.options.limits = wire::decode_limits(limits->as_object());
        return r;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("malformed backend run request: ") + e.what());
    }
}

CORDON_FUNC std::string encode_result(const Status& status, const RunResult& r) {
    const std::string fields = encode_result_fields(status, r);
    std::string out(encoded_result_size(fields, r), '\0');
    write_result(out.data(), fields, r);
    return out;
}

CORDON_FUNC std::string encode_result_fields(const Status& status, const RunResult& r) {
    boost::json::object o;
    o["status"] = status ? 0 : static_cast<int>(status.error().code);
    o["message"] = status ? std::string() : status.error().message;
    o["where"] = status ? std::string() : status.error().where;  // JSON pointer or path of the failure
    put_run_result(o, r);
    o["cancelled"] = r.cancelled;
    o["cgroup"] = r.cgroup;
    return boost::json::serialize(o);
}

namespace wire {

// encode_result's own layout, {"stdout_b64":"..","stderr_b64":"..",<fields>: the outputs are
// decoded straight from the text, and only the small rest is parsed into a JSON value (which
// would otherwise hold a third copy of them). Returns the rest as an object, or nullopt when the
// text is laid out otherwise (another backend's encoder): then it is parsed whole.
inline std::optional<boost::json::value> split_outputs(std::string_view text, RunResult& r) {
    auto take = [&text](std::string_view key, std::string& into) {
        if (text.substr(0, key.size()) != key) return false;
        text.remove_prefix(key.size());
        std::size_t end = text.find('"');  // the base64 alphabet has neither '"' nor '\\'
        if (end == std::string_view::npos) return false;
        auto bytes = base64_decode(text.substr(0, end));
        if (!bytes) throw std::invalid_argument("output is not base64");
        into = std::move(*bytes);
        text.remove_prefix(end);
        return true;
    };
    if (!take(result_stdout_key, r.out) || !take(result_stderr_key, r.err) || text.substr(0, 2) != "\",") {
        r.out.clear();
        r.err.clear();
        return std::nullopt;
    }
    text.remove_prefix(2);
    std::string rest = "{" + std::string(text);
    boost::json::value v = boost::json::parse(rest);
    if (v.as_object().contains("stdout_b64") || v.as_object().contains("stderr_b64"))
        throw std::invalid_argument("output given twice");
    return v;
}

}  // namespace wire

CORDON_FUNC Result<RunResult> decode_result(std::string_view text) {
    try {
        RunResult r;
        std::optional<boost::json::value> split = wire::split_outputs(text, r);
        boost::json::value v = split ? std::move(*split) : boost::json::parse(boost::json::string_view(text.data(), text.size()));
        const auto& o = v.as_object();
        r.exit_code = static_cast<int>(o.at("exit_code").to_number<std::int64_t>());
        r.signal = static_cast<int>(o.at("signal").to_number<std::int64_t>());
        if (!split) {
            auto out = base64_decode(std::string_view(o.at("stdout_b64").as_string()));
            auto err = base64_decode(std::string_view(o.at("stderr_b64").as_string()));
            if (!out || !err) throw std::invalid_argument("output is not base64");
            r.out = std::move(*out);
            r.err = std::move(*err);
        }
        r.out_dropped = o.at("stdout_dropped").to_number<std::size_t>();
        r.err_dropped = o.at("stderr_dropped").to_number<std::size_t>();
        r.duration_ms = o.at("duration_ms").to_number<std::uint64_t>();
        r.timed_out = o.at("timed_out").as_bool();
        const auto* cancelled = o.if_contains("cancelled");  // absent from backends older than cancellation
        r.cancelled = cancelled && cancelled->as_bool();
        const auto* cgroup = o.if_contains("cgroup");  // absent from backends older than limits
        r.cgroup = cgroup && cgroup->as_bool();
        r.failure = wire::named<ExecutorFailure>(o.at("failure"), "unknown failure kind");
        r.failure_message = std::string(o.at("failure_message").as_string());
        // absent from older backends: a failure then says nothing about the command, so it may have run
        const auto* started = o.if_contains("started");
        std::string_view s = started && started->is_string() ? std::string_view(started->get_string()) : "";
        auto said = enum_from_string<CommandStarted>(s);
        r.started = said ? *said : s.empty() && r.failure == ExecutorFailure::none ? CommandStarted::yes : CommandStarted::maybe;
        for (const auto& arg : o.at("invocation").as_array()) r.invocation.emplace_back(arg.as_string());
        auto status = o.at("status").to_number<std::int64_t>();
        if (status != 0) {
            auto known = enum_from_value<ErrorCode>(status);  // int64 compared whole: never truncated
            auto code = known && *known != ErrorCode::ok ? *known : ErrorCode::execution_failed;
            const auto* where = o.if_contains("where");  // absent from older backends
            return make_error(code, std::string(o.at("message").as_string()),
                              where && where->is_string() ? std::string(where->get_string()) : std::string());
        }
        return r;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::execution_failed, std::string("backend returned a malformed result: ") + e.what());
    }
}

CORDON_FUNC std::string encode_prepare_error(const Error& e) {
    return boost::json::serialize(boost::json::object{{"message", e.message}, {"where", e.where}});
}

CORDON_FUNC Error decode_prepare_error(std::string_view text, int status) {
    auto known = enum_from_value<ErrorCode>(status);
    const ErrorCode code = known && *known != ErrorCode::ok ? *known : ErrorCode::execution_failed;
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* message = o ? o->if_contains("message") : nullptr;
    const auto* where = o ? o->if_contains("where") : nullptr;
    if (!message || !message->is_string())
        return make_error(code, "the backend's prepare failed (status " + std::to_string(status) + ") and said nothing");
    return make_error(code, std::string(message->get_string()),
                      where && where->is_string() ? std::string(where->get_string()) : std::string());
}

}  // namespace cordon::detail
