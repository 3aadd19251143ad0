// SPDX-License-Identifier: MIT
// cordon: the fields of a RunResult as JSON, shared by the backend wire and `cordon run --json`.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "cordon/run_result.hpp"

namespace cordon::detail {

/// Adds what a run ended with (exit, signal, dropped bytes, duration, timeout, executor failure,
/// whether the command started, the executor's invocation) to `o`; the outputs are the caller's.
inline void put_run_result(boost::json::object& o, const RunResult& r) {
    o["exit_code"] = r.exit_code;
    o["signal"] = r.signal;
    o["stdout_dropped"] = r.out_dropped;
    o["stderr_dropped"] = r.err_dropped;
    o["duration_ms"] = r.duration_ms;
    o["timed_out"] = r.timed_out;
    o["failure"] = to_string(r.failure);
    o["failure_message"] = r.failure_message;
    o["started"] = to_string(r.started);
    boost::json::array invocation;
    for (const auto& arg : r.invocation) invocation.emplace_back(arg);
    o["invocation"] = std::move(invocation);
}

}  // namespace cordon::detail
