// SPDX-License-Identifier: MIT
// cordon: a structured argv rendered as MXC `commandLine` for Windows, where wxc-exec hands it to
// CreateProcessW with no shell: MSVCRT quoting, a `cmd /c` form with cmd's metacharacters inert,
// and Windows' length limits. Portable, so Windows policies are rendered and tested on any host.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/detail/utf16.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// CreateProcessW's limit: 32,767 UTF-16 units including the terminating NUL. Windows refuses
/// longer lines; wine does not, so cordon checks it itself.
inline constexpr std::size_t windows_command_line_max = 32766;
/// cmd.exe's own limit for one command line (`cmd /c ...`).
inline constexpr std::size_t windows_cmd_line_max = 8191;

/// One argument quoted so that the MSVCRT/UCRT argv parser and CommandLineToArgvW both return it
/// unchanged: quoted only when empty or holding whitespace or `"`; backslashes are doubled only
/// where they precede a `"`. Never emits `""` inside a quoted run (parsers disagree on it).
inline std::string windows_quote_argument(std::string_view arg) {
    if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string_view::npos) return std::string(arg);
    std::string out = "\"";
    for (std::size_t i = 0;; ++i) {
        std::size_t backslashes = 0;
        while (i < arg.size() && arg[i] == '\\') { ++i; ++backslashes; }
        if (i == arg.size()) {  // before the closing quote: every backslash doubled
            out.append(backslashes * 2, '\\');
            break;
        }
        if (arg[i] == '"') {  // doubled, plus one escaping the quote itself
            out.append(backslashes * 2 + 1, '\\');
            out += '"';
        } else {
            out.append(backslashes, '\\');
            out += arg[i];
        }
    }
    out += '"';
    return out;
}

namespace detail {

inline Status check_windows_argv(const std::vector<std::string>& argv, bool for_cmd) {
    if (argv.empty()) return make_error(ErrorCode::invalid_policy, "the command is empty", "argv");
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string where = "argv[" + std::to_string(i) + "]";
        const std::string& a = argv[i];
        if (a.find('\0') != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "argument contains a NUL byte", where);
        if (!utf8_to_utf16(a))
            return make_error(ErrorCode::invalid_policy, "argument is not valid UTF-8", where);
        if (!for_cmd) continue;
        if (a.find_first_of("\r\n") != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "cmd.exe ends a command at a line break; an argument "
                                                         "cannot carry one through `cmd /c`", where);
        if (a.find('%') != std::string::npos)
            return make_error(ErrorCode::invalid_policy,
                              "cordon cannot make '%' inert through `cmd /c` on every cmd.exe (Windows leaves "
                              "`^%NAME^%` alone, wine's cmd expands it); run the program without cmd",
                              where);
    }
    // argv[0] is parsed without escapes (up to the next quote), so it can hold no quote at all.
    if (argv[0].empty()) return make_error(ErrorCode::invalid_policy, "the program name is empty", "argv[0]");
    if (argv[0].find('"') != std::string::npos)
        return make_error(ErrorCode::invalid_policy, "a Windows program name cannot contain '\"'", "argv[0]");
    return {};
}

inline Status check_windows_length(const std::string& line, std::size_t max, const char* what) {
    std::size_t units = utf8_to_utf16(line)->size();  // arguments were checked to be UTF-8
    if (units > max)
        return make_error(ErrorCode::invalid_policy,
                          std::string(what) + " is " + std::to_string(units) + " UTF-16 characters; Windows allows " +
                              std::to_string(max),
                          "argv");
    return {};
}

}  // namespace detail

/// The command line CreateProcessW gives the program `argv[0]` so that its C runtime (and
/// CommandLineToArgvW) parses exactly `argv` back. argv[0] is always quoted, so a path with spaces
/// cannot be read as a shorter program. Metacharacters such as `& | < > ^ %` need no escaping:
/// nothing interprets them. Errors: invalid_policy (`where` = "argv[i]") for an empty argv or
/// program name, NUL, invalid UTF-8, a `"` in argv[0], or a line over 32,766 UTF-16 units.
inline Result<std::string> windows_command_line(const std::vector<std::string>& argv) {
    if (auto s = detail::check_windows_argv(argv, false); !s) return s.error();
    std::string out = "\"" + argv[0] + "\"";
    for (std::size_t i = 1; i < argv.size(); ++i) out += " " + windows_quote_argument(argv[i]);
    if (auto s = detail::check_windows_length(out, windows_command_line_max, "the command line"); !s) return s.error();
    return out;
}

/// `cmd.exe /d /v:off /c <line>` for commands that need cmd (builtins such as `echo`, `dir`,
/// `type`). The argv is quoted as for windows_command_line (argv[0] only when it needs quotes, since
/// cmd does not recognise a quoted builtin), then every cmd metacharacter `( ) ! ^ " < > & |` is
/// escaped with `^`, so cmd performs no redirection, chaining or grouping and hands the program
/// exactly `argv`. `/d` skips AutoRun commands from the registry, `/v:off` turns delayed `!`
/// expansion off whatever the registry says. `%` is refused: no escape keeps `%NAME%` from being
/// expanded by every cmd.exe (the caret trick works on Windows, not in wine's cmd), and a policy
/// must not depend on which one runs it. Errors: as windows_command_line, plus a line break or a
/// `%` in any argument, and cmd's 8,191-character limit.
inline Result<std::string> windows_cmd_command_line(const std::vector<std::string>& argv) {
    if (auto s = detail::check_windows_argv(argv, true); !s) return s.error();
    const std::string& program = argv[0];
    std::string inner = program.find_first_of(" \t\v") == std::string::npos ? program : "\"" + program + "\"";
    for (std::size_t i = 1; i < argv.size(); ++i) inner += " " + windows_quote_argument(argv[i]);
    std::string out = "cmd.exe /d /v:off /c ";
    for (char c : inner) {
        if (std::string_view("()%!^\"<>&|").find(c) != std::string_view::npos) out += '^';
        out += c;
    }
    if (auto s = detail::check_windows_length(out, windows_cmd_line_max, "the cmd.exe command line"); !s)
        return s.error();
    return out;
}

/// The argv a Microsoft C runtime (UCRT, and MSVCRT since 2008) builds from a command line: the
/// reference parser cordon's quoting is tested against on every host. argv[0] runs to the next
/// quote or whitespace with no escapes; later arguments follow the backslash/quote rules, and `""`
/// inside a quoted run is a literal quote.
inline std::vector<std::string> windows_parse_command_line(std::string_view line) {
    std::vector<std::string> argv;
    std::size_t i = 0;
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    {
        std::string program;
        if (i < line.size() && line[i] == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) program += line[i];
            if (i < line.size()) ++i;
        } else {
            for (; i < line.size() && !blank(line[i]); ++i) program += line[i];
        }
        argv.push_back(std::move(program));
    }
    for (;;) {
        while (i < line.size() && blank(line[i])) ++i;
        if (i >= line.size()) break;
        std::string arg;
        bool quoted = false;
        while (i < line.size() && (quoted || !blank(line[i]))) {
            std::size_t backslashes = 0;
            while (i < line.size() && line[i] == '\\') { ++i; ++backslashes; }
            if (i < line.size() && line[i] == '"') {
                arg.append(backslashes / 2, '\\');
                if (backslashes % 2) {
                    arg += '"';
                    ++i;
                } else if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
                    arg += '"';
                    i += 2;
                } else {
                    quoted = !quoted;
                    ++i;
                }
            } else {
                arg.append(backslashes, '\\');
                if (i < line.size() && (quoted || !blank(line[i]))) arg += line[i++];
            }
        }
        argv.push_back(std::move(arg));
    }
    return argv;
}

}  // namespace cordon
