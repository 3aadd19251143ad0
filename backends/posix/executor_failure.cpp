// SPDX-License-Identifier: MIT
// cordon POSIX runner: classification of MXC executor failures from exit status and stderr.
#include "executor_failure.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace cordon::posix {
namespace {

constexpr std::size_t max_message = 4096;  // a failure message is a sentence, not a log

std::string_view trim(std::string_view s) {
    const char* space = " \t\r\n";
    auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::string bounded(std::string_view s) {
    s = trim(s);
    if (s.size() <= max_message) return std::string(s);
    return std::string(s.substr(0, max_message)) + " [...]";
}

std::vector<std::string_view> non_empty_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        if (!line.empty()) lines.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return lines;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The text before the first line break that follows `line` (which points into `text`).
std::string_view after_line(std::string_view text, std::string_view line) {
    auto end = static_cast<std::size_t>(line.data() - text.data()) + line.size();
    return end < text.size() ? text.substr(end) : std::string_view{};
}

// error.message of the last {"error":{...}} object, when that object is all that follows it.
std::optional<std::string> trailing_error_object(std::string_view err) {
    auto at = err.rfind("{\"error\":");
    if (at == std::string_view::npos) return std::nullopt;
    auto tail = trim(err.substr(at));
    try {
        auto v = boost::json::parse(boost::json::string_view(tail.data(), tail.size()));
        const auto& error = v.as_object().at("error").as_object();
        if (const auto* message = error.if_contains("message"); message && message->is_string())
            return std::string(message->as_string());
        if (const auto* code = error.if_contains("code"); code && code->is_string())
            return std::string(code->as_string());
        return std::string("backend error");
    } catch (const std::exception&) {
        return std::nullopt;  // not JSON after all (or cut off by the output limit)
    }
}

void fail(RunResult& run, ExecutorFailure kind, std::string_view message) {
    run.failure = kind;
    run.failure_message = bounded(message);
}

}  // namespace

void classify_executor_failure(RunResult& run) {
    if (run.failure != ExecutorFailure::none) return;
    const std::string_view err = run.err;
    const auto lines = non_empty_lines(err);

    if (run.signal != 0) {
        if (!run.timed_out)
            fail(run, ExecutorFailure::backend_error,
                 "the executor was killed by signal " + std::to_string(run.signal));
        return;
    }

    if (run.exit_code == 1 && !lines.empty()) {
        if (lines.front() == "Request error") {
            auto detail = trim(after_line(err, lines.front()));
            fail(run, ExecutorFailure::config_rejected, detail.empty() ? "Request error" : detail);
            return;
        }
        if (starts_with(lines.front(), "Error: No config provided")) {
            fail(run, ExecutorFailure::config_rejected, lines.front());
            return;
        }
        if (starts_with(lines.front(), "error: the '") &&
            lines.front().find("' backend is not available") != std::string_view::npos) {
            fail(run, ExecutorFailure::backend_unavailable, lines.front());
            return;
        }
        if (starts_with(lines.back(), "bwrap: ")) {
            fail(run, ExecutorFailure::launch_failed, lines.back());
            return;
        }
        return;
    }

    if (run.exit_code == 255) {
        if (auto message = trailing_error_object(err)) {
            fail(run, ExecutorFailure::backend_error, *message);
        } else if (run.err_dropped > 0) {
            fail(run, ExecutorFailure::backend_error,
                 "the executor exited with 255; its stderr exceeded the output limit, so its message was dropped");
        } else if (!lines.empty()) {
            fail(run, ExecutorFailure::backend_error, lines.back());
        } else if (run.out.find("Result: validation failed") != std::string::npos) {
            fail(run, ExecutorFailure::backend_error, "the executor's runner validation failed (it does not say why)");
        } else {
            fail(run, ExecutorFailure::backend_error, "the executor exited with 255 without a message");
        }
        return;
    }

    // clap: "error: unexpected argument '--x' found" ... "Usage: ..." ... "For more information, try '--help'."
    if (run.exit_code == 2 && !lines.empty() && starts_with(lines.front(), "error: ") &&
        err.find("Usage: ") != std::string_view::npos) {
        fail(run, ExecutorFailure::backend_error,
             "the executor refused its command line: " + std::string(lines.front()));
    }
}

}  // namespace cordon::posix
