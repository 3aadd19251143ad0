// SPDX-License-Identifier: MIT
// cordon check: validate MXC config files against their contract, one line per violation.
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
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

int Check::run(Output& out) {
    int status = 0;
    boost::json::array results;
    for (const auto& file : files_) {
        const std::string name = input_name(file);
        boost::json::object r{{"file", name}};
        auto text = read_input(file);
        if (!text) {
            status = 1;
            const Error& e = text.error();
            r.insert({{"valid", false}, {"error", {{"code", to_string(e.code)}, {"message", e.message}}}});
            if (!out.json()) std::cout << name << ": " << e.message << "\n";
            results.push_back(std::move(r));
            continue;
        }
        Violations violations = validate(*text);
        boost::json::array listed;
        for (const auto& v : violations) {
            listed.push_back({{"pointer", v.pointer}, {"message", v.message}});
            if (!out.json()) std::cout << name << ": " << v.to_string() << "\n";
        }
        if (violations.empty() && !out.json()) std::cout << name << ": valid\n";
        if (!violations.empty()) status = 1;
        r.insert({{"valid", violations.empty()}, {"violations", std::move(listed)}});
        results.push_back(std::move(r));
    }
    if (out.json()) return out.result({{"files", std::move(results)}}, status);
    return status;
}

}  // namespace

std::unique_ptr<Command> make_check() { return std::make_unique<Check>(); }

}  // namespace cordon::cli
