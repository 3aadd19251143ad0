// SPDX-License-Identifier: MIT
// cordon processcontainer backend: classification of wxc-exec.exe failures from exit code and stderr.
#include "executor_output.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace cordon::processcontainer {
namespace {

constexpr std::size_t max_message = 4096;  // a failure message is a sentence, not a log

std::string_view trim(std::string_view s) {
    const char* space = " \t\r\n";
    auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Non-empty lines, without the DACL recovery report wxc-exec prints first when it repaired leftovers.
std::vector<std::string_view> meaningful_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        if (!line.empty() && !(lines.empty() && starts_with(line, "DACL recovery:"))) lines.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return lines;
}

std::string_view after_line(std::string_view text, std::string_view line) {
    auto end = static_cast<std::size_t>(line.data() - text.data()) + line.size();
    return end < text.size() ? text.substr(end) : std::string_view{};
}

// error.message of the last {"error":{...}} object, when nothing but whitespace follows it.
std::optional<std::string> trailing_error_object(std::string_view err) {
    auto at = err.rfind("{\"error\":");
    if (at == std::string_view::npos) return std::nullopt;
    auto tail = trim(err.substr(at));
    try {
        auto v = boost::json::parse(boost::json::string_view(tail.data(), tail.size()));
        const auto& error = v.as_object().at("error").as_object();
        if (const auto* m = error.if_contains("message"); m && m->is_string()) return std::string(m->get_string());
        if (const auto* c = error.if_contains("code"); c && c->is_string()) return std::string(c->get_string());
        return std::string("backend error");
    } catch (const std::exception&) {
        return std::nullopt;  // not JSON after all, or cut off by the output limit
    }
}

void fail(RunResult& run, ExecutorFailure kind, std::string_view message) {
    message = trim(message);
    run.failure = kind;
    run.failure_message = message.size() <= max_message ? std::string(message)
                                                        : std::string(message.substr(0, max_message)) + " [...]";
}

}  // namespace

void classify_executor_output(RunResult& run) {
    if (run.failure != ExecutorFailure::none || run.timed_out) return;
    const std::string_view err = run.err;
    const auto lines = meaningful_lines(err);

    if (run.exit_code == 1 && !lines.empty()) {
        const auto first = lines.front();
        if (first == "Request error") {
            auto detail = trim(after_line(err, first));
            fail(run, ExecutorFailure::config_rejected, detail.empty() ? first : detail);
        } else if (starts_with(first, "Error: No config provided")) {
            fail(run, ExecutorFailure::config_rejected, first);
        } else if ((starts_with(first, "error: ") || starts_with(first, "Error: ")) &&
                   (first.find(" backend is not available") != std::string_view::npos ||
                    first.find(" backend not available on ") != std::string_view::npos)) {
            fail(run, ExecutorFailure::backend_unavailable, first);
        } else if (starts_with(first, "error: BaseContainer is unavailable")) {
            fail(run, ExecutorFailure::launch_failed, first);
        }
        return;
    }
    // Rust's exit(-1): GetExitCodeProcess reports 0xFFFFFFFF (-1 here); a POSIX parent sees 255.
    if (run.exit_code == 255 || run.exit_code == -1) {
        if (auto message = trailing_error_object(err)) fail(run, ExecutorFailure::backend_error, *message);
        else if (run.err_dropped > 0)
            fail(run, ExecutorFailure::backend_error,
                 "wxc-exec exited with its failure code; its stderr exceeded the output limit, so its message was dropped");
        else if (!lines.empty()) fail(run, ExecutorFailure::backend_error, lines.back());
        else fail(run, ExecutorFailure::backend_error, "wxc-exec exited with its failure code without a message");
        return;
    }
    if (run.exit_code == 2 && !lines.empty() && starts_with(lines.front(), "error: ") &&
        err.find("Usage: ") != std::string_view::npos)
        fail(run, ExecutorFailure::backend_error, "wxc-exec refused its command line: " + std::string(lines.front()));
}

}  // namespace cordon::processcontainer
