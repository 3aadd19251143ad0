// SPDX-License-Identifier: MIT
// cordon: reading an MXC executor's stderr: lines, and the {"error":{...}} object 0.9.0 appends.
// Shared by every backend's failure classification.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"

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
CORDON_FUNC std::optional<std::string> trailing_error_object(std::string_view err);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/executor_stderr.hpp"
#endif
