// SPDX-License-Identifier: MIT
// cordon: implementation of detail/run_wire.hpp (Boost.JSON).
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/detail/run_wire.hpp"

namespace cordon::detail {

CORDON_FUNC std::string encode_request(const RunRequest& r) {
    boost::json::object o;
    o["config"] = r.config_json;
    o["executor"] = boost::json::object{{"path", r.executor_path}, {"fd", r.executor_fd}};
    o["sdk_version"] = r.sdk_version;
    o["timeout_ms"] = r.timeout_ms;
    o["config_delivery"] = r.options.delivery == ConfigDelivery::file ? "file" : "base64";
    o["grace_ms"] = r.options.grace_ms;
    o["output_limit"] = r.options.output_limit;
    o["dry_run"] = r.options.dry_run;
    o["cancel_fd"] = r.options.cancel_fd;
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
        std::string_view delivery = o.at("config_delivery").as_string();
        if (delivery != "file" && delivery != "base64") throw std::invalid_argument("config_delivery");
        r.options.delivery = delivery == "file" ? ConfigDelivery::file : ConfigDelivery::base64;
        r.options.grace_ms = o.at("grace_ms").to_number<std::uint32_t>();
        r.options.output_limit = o.at("output_limit").to_number<std::size_t>();
        r.options.dry_run = o.at("dry_run").as_bool();
        const auto* cancel = o.if_contains("cancel_fd");  // absent from hosts older than cancellation
        r.options.cancel_fd = cancel ? static_cast<int>(cancel->to_number<std::int64_t>()) : -1;
        return r;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("malformed backend run request: ") + e.what());
    }
}

CORDON_FUNC std::string encode_result(const Status& status, const RunResult& r) {
    boost::json::object o;
    o["status"] = status ? 0 : static_cast<int>(status.error().code);
    o["message"] = status ? std::string() : status.error().message;
    o["where"] = status ? std::string() : status.error().where;  // JSON pointer or path of the failure
    o["exit_code"] = r.exit_code;
    o["signal"] = r.signal;
    o["stdout_b64"] = base64_encode(r.out);
    o["stderr_b64"] = base64_encode(r.err);
    o["stdout_dropped"] = r.out_dropped;
    o["stderr_dropped"] = r.err_dropped;
    o["duration_ms"] = r.duration_ms;
    o["timed_out"] = r.timed_out;
    o["cancelled"] = r.cancelled;
    o["failure"] = to_string(r.failure);
    o["failure_message"] = r.failure_message;
    boost::json::array invocation;
    for (const auto& arg : r.invocation) invocation.emplace_back(arg);
    o["invocation"] = std::move(invocation);
    return boost::json::serialize(o);
}

CORDON_FUNC Result<RunResult> decode_result(std::string_view text) {
    try {
        boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()));
        const auto& o = v.as_object();
        RunResult r;
        r.exit_code = static_cast<int>(o.at("exit_code").to_number<std::int64_t>());
        r.signal = static_cast<int>(o.at("signal").to_number<std::int64_t>());
        auto out = base64_decode(std::string_view(o.at("stdout_b64").as_string()));
        auto err = base64_decode(std::string_view(o.at("stderr_b64").as_string()));
        if (!out || !err) throw std::invalid_argument("output is not base64");
        r.out = std::move(*out);
        r.err = std::move(*err);
        r.out_dropped = o.at("stdout_dropped").to_number<std::size_t>();
        r.err_dropped = o.at("stderr_dropped").to_number<std::size_t>();
        r.duration_ms = o.at("duration_ms").to_number<std::uint64_t>();
        r.timed_out = o.at("timed_out").as_bool();
        const auto* cancelled = o.if_contains("cancelled");  // absent from backends older than cancellation
        r.cancelled = cancelled && cancelled->as_bool();
        std::string_view failure = o.at("failure").as_string();
        bool known = false;
        for (auto f : {ExecutorFailure::none, ExecutorFailure::config_rejected, ExecutorFailure::backend_error,
                       ExecutorFailure::launch_failed, ExecutorFailure::backend_unavailable,
                       ExecutorFailure::spawn_failed})
            if (to_string(f) == failure) { r.failure = f; known = true; }
        if (!known) throw std::invalid_argument("unknown failure kind");
        r.failure_message = std::string(o.at("failure_message").as_string());
        for (const auto& arg : o.at("invocation").as_array()) r.invocation.emplace_back(arg.as_string());
        auto status = o.at("status").to_number<std::int64_t>();
        if (status != 0) {
            auto code = status >= 1 && status <= 8 ? static_cast<ErrorCode>(status) : ErrorCode::execution_failed;
            const auto* where = o.if_contains("where");  // absent from older backends
            return make_error(code, std::string(o.at("message").as_string()),
                              where && where->is_string() ? std::string(where->get_string()) : std::string());
        }
        return r;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::execution_failed, std::string("backend returned a malformed result: ") + e.what());
    }
}

}  // namespace cordon::detail
