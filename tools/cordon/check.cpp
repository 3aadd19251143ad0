// SPDX-License-Identifier: MIT
// cordon check: validate MXC config files against their contract, one line per violation.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::cli {

extern const std::string_view check_help =
    "Usage: cordon check FILE|- [FILE...]\n"
    "\n"
    "Validates MXC config files (contract named by their \"version\": 0.6.0-alpha or\n"
    "0.7.0-alpha) with cordon's strict parser and its closed JSON Schema.\n"
    "Prints 'FILE: valid', or one line per violation: 'FILE: POINTER: message'.\n"
    "\n"
    "Exit status: 0 all valid, 1 some file invalid or unreadable, 2 usage error.\n"
    "\n"
    "Example:\n"
    "  cordon check examples/policies/readonly-docs.json\n"
    "  echo '{\"version\":\"0.6.0-alpha\",\"process\":{\"commandLine\":\"\"}}' | cordon check -\n";

int run_check(const Args& args) {
    std::vector<std::string_view> files;
    for (auto arg : args) {
        if (is_help(arg)) {
            std::cout << check_help;
            return 0;
        }
        if (arg.size() > 1 && arg[0] == '-') return usage_error("check", "unknown option '" + std::string(arg) + "'");
        files.push_back(arg);
    }
    if (files.empty()) return usage_error("check", "expected at least one FILE (or - for standard input)");
    int status = 0;
    for (auto file : files) {
        const std::string name = file == "-" ? "<stdin>" : std::string(file);
        auto text = read_input(file);
        if (!text) {
            std::cout << name << ": " << text.error().message << "\n";
            status = 1;
            continue;
        }
        Violations violations = validate(*text);
        if (violations.empty()) {
            std::cout << name << ": valid\n";
            continue;
        }
        status = 1;
        for (const auto& v : violations) std::cout << name << ": " << v.to_string() << "\n";
    }
    return status;
}

}  // namespace cordon::cli
