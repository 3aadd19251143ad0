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

/// A variable (or glob of variables, upper case) that makes a program load or run code, or pick
/// which program runs, chosen by whoever sets it; and why. Admitted only when the ceiling's
/// allow-list names it exactly, never through a glob such as `*` (docs/clamp-rules.md).
struct DangerousEnvPattern {
    std::string_view pattern;
    std::string_view why;
};

inline constexpr std::string_view env_loader_why = "the dynamic loader and libc load code from it";
inline constexpr std::string_view env_shell_why = "shells run or expand code from it";
inline constexpr std::string_view env_selects_why = "it picks which program or configuration runs";
inline constexpr std::string_view env_interpreter_why = "an interpreter loads code or modules from it";
inline constexpr std::string_view env_tool_why = "git and other tools run the command it names";
inline constexpr std::string_view env_build_why = "compilers and build tools run or load what it names";

inline constexpr DangerousEnvPattern dangerous_env_patterns[95] = {
    {"LD_*", env_loader_why}, {"DYLD_*", env_loader_why}, {"GCONV_PATH", env_loader_why},
    {"GLIBC_TUNABLES", env_loader_why}, {"LOCPATH", env_loader_why}, {"NLSPATH", env_loader_why},
    {"BASH_ENV", env_shell_why}, {"ENV", env_shell_why}, {"BASHOPTS", env_shell_why},
    {"SHELLOPTS", env_shell_why}, {"BASH_FUNC_*", env_shell_why}, {"PS?", env_shell_why},
    {"PROMPT_COMMAND", env_shell_why}, {"IFS", env_shell_why}, {"CDPATH", env_shell_why},
    {"FPATH", env_shell_why}, {"ZDOTDIR", env_shell_why}, {"INPUTRC", env_shell_why},
    {"SHELL", env_shell_why},
    {"PATH", env_selects_why}, {"HOME", env_selects_why}, {"XDG_CONFIG_HOME", env_selects_why},
    {"XDG_CONFIG_DIRS", env_selects_why}, {"PATHEXT", env_selects_why}, {"COMSPEC", env_selects_why},
    {"PSMODULEPATH", env_selects_why}, {"__COMPAT_LAYER", env_selects_why},
    {"PYTHON*", env_interpreter_why}, {"PERL*", env_interpreter_why}, {"RUBY*", env_interpreter_why},
    {"GEM_*", env_interpreter_why}, {"BUNDLE_*", env_interpreter_why}, {"NODE_*", env_interpreter_why},
    {"NPM_CONFIG_*", env_interpreter_why}, {"JAVA_TOOL_OPTIONS", env_interpreter_why},
    {"_JAVA_OPTIONS", env_interpreter_why}, {"JDK_JAVA_OPTIONS", env_interpreter_why},
    {"CLASSPATH", env_interpreter_why}, {"JAVA_HOME", env_interpreter_why}, {"LUA_*", env_interpreter_why},
    {"TCLLIBPATH", env_interpreter_why}, {"R_PROFILE*", env_interpreter_why},
    {"R_ENVIRON*", env_interpreter_why}, {"R_LIBS*", env_interpreter_why}, {"PHPRC", env_interpreter_why},
    {"PHP_INI_SCAN_DIR", env_interpreter_why}, {"GUILE_*", env_interpreter_why},
    {"ERL_*", env_interpreter_why}, {"DOTNET_*", env_interpreter_why}, {"COMPLUS_*", env_interpreter_why},
    {"GIT_*", env_tool_why}, {"SSH_ASKPASS", env_tool_why}, {"SUDO_ASKPASS", env_tool_why},
    {"EDITOR", env_tool_why}, {"VISUAL", env_tool_why}, {"PAGER", env_tool_why}, {"MANPAGER", env_tool_why},
    {"LESSOPEN", env_tool_why}, {"LESSCLOSE", env_tool_why}, {"BROWSER", env_tool_why},
    {"OPENSSL_CONF", env_tool_why}, {"OPENSSL_ENGINES", env_tool_why}, {"OPENSSL_MODULES", env_tool_why},
    {"CC", env_build_why}, {"CXX", env_build_why}, {"CPP", env_build_why}, {"LD", env_build_why},
    {"AS", env_build_why}, {"AR", env_build_why}, {"CFLAGS", env_build_why}, {"CXXFLAGS", env_build_why},
    {"CPPFLAGS", env_build_why}, {"LDFLAGS", env_build_why}, {"MAKEFLAGS", env_build_why},
    {"MFLAGS", env_build_why}, {"MAKEFILES", env_build_why}, {"GNUMAKEFLAGS", env_build_why},
    {"COMPILER_PATH", env_build_why}, {"GCC_EXEC_PREFIX", env_build_why}, {"CPATH", env_build_why},
    {"C_INCLUDE_PATH", env_build_why}, {"CPLUS_INCLUDE_PATH", env_build_why}, {"LIBRARY_PATH", env_build_why},
    {"PKG_CONFIG_*", env_build_why}, {"CMAKE_*", env_build_why}, {"CCACHE_*", env_build_why},
    {"GOFLAGS", env_build_why}, {"GOTOOLCHAIN", env_build_why}, {"GOROOT", env_build_why},
    {"GOENV", env_build_why}, {"RUSTC*", env_build_why}, {"RUSTFLAGS", env_build_why},
    {"RUSTDOCFLAGS", env_build_why}, {"CARGO_*", env_build_why}, {"RUSTUP_*", env_build_why},
};

/// Why `upper_name` is dangerous, or empty when it is not.
inline std::string_view dangerous_env_reason(std::string_view upper_name) noexcept {
    for (const DangerousEnvPattern& d : dangerous_env_patterns)
        if (glob_match(d.pattern, upper_name)) return d.why;
    return {};
}

inline bool dangerous_env_name(std::string_view upper_name) noexcept { return !dangerous_env_reason(upper_name).empty(); }

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
