// SPDX-License-Identifier: MIT
// cordon: a structured argv rendered as MXC `commandLine` for POSIX executors, which run `sh -c`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cordon/error.hpp"

namespace cordon {

/// Quotes every argument in single quotes (a `'` becomes `'\''`), so no argument can inject shell
/// syntax: `sh -c` sees exactly `argv`. Errors: invalid_policy for an empty argv or a NUL byte
/// (`where` = "argv[i]"), which no exec can carry.
inline Result<std::string> posix_command_line(const std::vector<std::string>& argv) {
    if (argv.empty()) return make_error(ErrorCode::invalid_policy, "the command is empty", "argv");
    std::string out;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg.find('\0') != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "argument contains a NUL byte",
                              "argv[" + std::to_string(i) + "]");
        if (i) out += ' ';
        out += '\'';
        for (char c : arg) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    // `exec` so the command replaces the shell: signals and the exit status are the command's own.
    return "exec " + out;
}

}  // namespace cordon
