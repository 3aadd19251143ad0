// SPDX-License-Identifier: MIT
// cordon: reading an MXC executor's stderr: lines, and the {"error":{...}} object 0.9.0 appends.
// Shared by every backend's failure classification.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace cordon::detail {

/// Longest failure message kept: a failure message is a sentence, not a log.
inline constexpr std::size_t max_failure_message = 4096;

inline std::string_view trim(std::string_view s) {
    const char* space = " \t\r\n";
    auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

/// Trimmed, and cut at max_failure_message with a " [...]" marker.
inline std::string bounded_message(std::string_view s) {
    s = trim(s);
    if (s.size() <= max_failure_message) return std::string(s);
    return std::string(s.substr(0, max_failure_message)) + " [...]";
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

/// The trimmed, non-empty lines of `text` (views into it).
inline std::vector<std::string_view> non_empty_lines(std::string_view text) {
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

/// What follows `line` (a view into `text`) in `text`.
inline std::string_view after_line(std::string_view text, std::string_view line) {
    auto end = static_cast<std::size_t>(line.data() - text.data()) + line.size();
    return end < text.size() ? text.substr(end) : std::string_view{};
}

/// error.message (else error.code) of the last {"error":{...}} object in `err`, when nothing but
/// whitespace follows it; executors 0.9.0 append it right after their message, without a newline.
inline std::optional<std::string> trailing_error_object(std::string_view err) {
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

}  // namespace cordon::detail
