// SPDX-License-Identifier: MIT
// cordon CLI: what every subcommand shares (input reading, usage errors, the command table).
#pragma once

#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/detail/input_file.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/error.hpp"

namespace cordon::cli {

/// Exit code for a command-line usage error, shared by every subcommand.
inline constexpr int exit_usage = 2;

using Args = std::vector<std::string_view>;

struct Command {
    std::string_view name;
    std::string_view summary;
    std::string_view help;  ///< full --help text, with an example
    int (*run)(const Args& args);
};

/// Reads a file (a regular file, opened without blocking), or standard input for "-". Refuses
/// inputs larger than `limit` bytes.
inline Result<std::string> read_input(std::string_view path, std::size_t limit = detail::max_config_bytes) {
    if (path != "-") {
        auto file = detail::read_input_file(std::string(path), limit, detail::FileTrust::any, "file");
        if (!file) return file.error();
        return std::move(file->text);
    }
    std::string text;
    char buffer[65536];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
        if (text.size() > limit)
            return make_error(ErrorCode::invalid_policy, "input is larger than " + std::to_string(limit) + " bytes",
                              "<stdin>");
    }
    if (std::cin.bad()) return make_error(ErrorCode::io_error, "cannot read standard input", "<stdin>");
    return text;
}

/// Prints "cordon <command>: message" and the hint to use --help; returns the usage exit code.
inline int usage_error(std::string_view command, std::string_view message) {
    std::cerr << "cordon " << command << ": " << message << "\n"
              << "Try 'cordon " << command << " --help'.\n";
    return exit_usage;
}

inline bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

}  // namespace cordon::cli
