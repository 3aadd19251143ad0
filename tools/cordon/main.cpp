// SPDX-License-Identifier: MIT
// cordon: command-line front end of the policy engine. Dispatches to one subcommand per file.
#include <exception>
#include <iostream>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "manual.hpp"
#include "cordon/config.hpp"

namespace {

void print_help() {
    std::cout << "Usage: cordon COMMAND [OPTIONS] [ARGS...]\n"
                 "       cordon --version | --help | --man\n\n"
                 "Sandbox policy engine for Microsoft MXC executors.\n\nCommands:\n";
    for (const auto& c : cordon::cli::commands) {
        auto command = c.make();
        std::cout << "  " << c.name << std::string(12 - c.name.size(), ' ') << command->doc().summary << "\n";
    }
    std::cout << "\n'cordon COMMAND --help' shows a command's options and an example.\n";
}

int dispatch(int argc, char** argv) {
    const cordon::cli::Args args(argv + 1, argv + argc);
    if (args.empty()) {
        print_help();
        return cordon::cli::exit_usage;
    }
    if (args[0] == "--help" || args[0] == "-h") {
        print_help();
        return 0;
    }
    if (args[0] == "--man") {  // cordon(1), from the same text as --help (meson installs it)
        std::cout << cordon::cli::man_page();
        return 0;
    }
    if (args[0] == "--version") {
        std::cout << "cordon " << CORDON_VERSION_STRING << "\n";
        return 0;
    }
    for (const auto& c : cordon::cli::commands)
        if (c.name == args[0]) {
            auto command = c.make();
            return cordon::cli::run_command(*command, cordon::cli::Args(args.begin() + 1, args.end()));
        }
    // As a subcommand's usage error: JSON on stdout when --json is anywhere.
    cordon::cli::Output out("cordon", cordon::cli::wants_json(args));
    if (!args[0].empty() && args[0].front() == '-')
        return out.usage("expected a command before '" + args[0] + "' (cordon COMMAND [OPTIONS])",
                         cordon::cli::exit_usage);
    return out.usage("unknown command '" + args[0] + "'", cordon::cli::exit_usage);
}

}  // namespace

int main(int argc, char** argv) {
    // Nothing may escape main: an uncaught exception would abort without a message.
    try {
        return dispatch(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "cordon: internal error: " << e.what() << "\n";
    } catch (...) {
        std::cerr << "cordon: internal error\n";
    }
    return cordon::cli::exit_internal;
}
