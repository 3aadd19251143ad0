// SPDX-License-Identifier: MIT
// cordon check: validate MXC config files against their contract, one line per violation.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/pins.hpp"

namespace cordon::cli {

extern const std::string_view check_help =
    "Usage: cordon check [--sdk VERSION] [--contract VERSION] FILE|- [FILE...]\n"
    "\n"
    "Validates MXC config files against the contract named by their \"version\" (0.6.0-alpha,\n"
    "0.7.0-alpha, 0.8.0-alpha, 0.9.0-alpha or 1.0.0: every contract a pinned executor accepts)\n"
    "with cordon's strict parser and its closed JSON Schema, as strictly as the executor.\n"
    "Development contracts (0.10.0-alpha, 1.1.0-alpha) are refused.\n"
    "Prints 'FILE: valid', or one line per violation: 'FILE: POINTER: message'.\n"
    "\n"
    "  --sdk VERSION        only the contracts the executor of that SDK accepts (1.0.1: 0.9.0-alpha\n"
    "                       and 1.0.0; 0.9.0: 0.6.0-alpha to 0.9.0-alpha)\n"
    "  --contract VERSION   only that contract\n"
    "\n"
    "Exit status: 0 all valid, 1 some file invalid or unreadable, 2 usage error.\n"
    "\n"
    "Example:\n"
    "  cordon check examples/policies/readonly-docs.json\n"
    "  echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"\"}}' | cordon check -\n";

int run_check(const Args& args) {
    std::vector<std::string_view> files;
    CheckOptions options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (is_help(arg)) {
            std::cout << check_help;
            return 0;
        }
        if (arg == "--sdk" || arg == "--contract") {
            if (i + 1 >= args.size()) return usage_error("check", std::string(arg) + " needs a VERSION");
            std::string_view v = args[++i];
            if (arg == "--sdk" && !find_sdk_release(v))
                return usage_error("check", "--sdk: SDK '" + std::string(v) + "' is not pinned");
            if (arg == "--sdk") options.sdk_version = v;
            else if (!(options.contract = find_contract(v)) || options.contract->development)
                return usage_error("check", "--contract: cordon reads no contract '" + std::string(v) + "'");
            continue;
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
        Violations violations = validate(*text, options);
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
