// SPDX-License-Identifier: MIT
// cordon: environment variable names against the ceiling's allow-list (globs) and the dangerous-variable rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cordon/detail/ordinal_upcase.hpp"

namespace cordon::detail {

// `*` matches any run of characters, `?` one byte; everything else literally. Iterative with one
// backtrack point, so a hostile pattern stays linear-ish rather than exponential.
inline bool glob_match(std::string_view pattern, std::string_view text) noexcept {
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

inline bool has_wildcard(std::string_view s) noexcept { return s.find_first_of("*?") != std::string_view::npos; }

/// Variables that make the contained program load or run code chosen by whoever sets them
/// (dynamic loader, shell start-up files, interpreter start-up scripts).
inline bool dangerous_env_name(std::string_view upper_name) noexcept {
    for (std::string_view pattern : {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_*", "BASH_ENV", "ENV",
                                     "PYTHONSTARTUP"})
        if (glob_match(pattern, upper_name)) return true;
    return false;
}

enum class EnvVerdict { allowed, not_listed, dangerous };

/// Judges one variable name. `fold` compares case-insensitively (Windows environments).
inline EnvVerdict judge_env_name(std::string_view name, const std::vector<std::string>& allow, bool fold) {
    std::string key = fold ? ordinal_upper(name) : std::string(name);
    bool exact = false, matched = false;
    for (const std::string& entry : allow) {
        std::string pattern = fold ? ordinal_upper(entry) : entry;
        if (pattern == key) exact = true;
        if (glob_match(pattern, key)) matched = true;
    }
    // Danger is judged on the upper-case name: `ld_preload` is not special on Linux, but refusing
    // it costs nothing and closes the case-insensitive Windows and macOS spellings.
    if (dangerous_env_name(ordinal_upper(name)) && !exact) return EnvVerdict::dangerous;
    return matched ? EnvVerdict::allowed : EnvVerdict::not_listed;
}

}  // namespace cordon::detail
