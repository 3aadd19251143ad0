// SPDX-License-Identifier: MIT
// cordon check: validate MXC config files against their contract, one line per violation.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/mxc_json.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

const CommandDoc check_doc{
    "check",
    "validate MXC config files against their contract",
    "[OPTIONS] FILE|- [FILE...]",
    "Validates MXC config files (contract named by their \"version\": 0.6.0-alpha or\n"
    "0.7.0-alpha) with cordon's strict parser and its closed JSON Schema.\n"
    "Prints 'FILE: valid', or one line per violation: 'FILE: POINTER: message'.",
    "0 all valid, 1 some file invalid or unreadable, 2 usage error.",
    "cordon check examples/policies/linux-readonly-docs.json\n"
    "echo '{\"version\":\"0.6.0-alpha\",\"process\":{\"commandLine\":\"make\"}}' | cordon check -",
};

class Check final : public Command {
public:
    const CommandDoc& doc() const override { return check_doc; }
    void define(CLI::App& app) override {
        opt::operands(app, "FILE", files_, "an MXC config file, or - for standard input")->required();
    }
    int run(Output& out) override;

private:
    std::vector<std::string> files_;
};

int Check::run(Output&) {
    int status = 0;
    for (const auto& file : files_) {
        const std::string name = input_name(file);
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

}  // namespace

std::unique_ptr<Command> make_check() { return std::make_unique<Check>(); }

}  // namespace cordon::cli
