// SPDX-License-Identifier: MIT
// cordon CLI: the subcommands, each defined in its own file.
#pragma once

#include <memory>

#include "cli.hpp"

namespace cordon::cli {

std::unique_ptr<Command> make_check();
std::unique_ptr<Command> make_clamp();
std::unique_ptr<Command> make_explain();
std::unique_ptr<Command> make_probe();
std::unique_ptr<Command> make_run();
std::unique_ptr<Command> make_verify();
std::unique_ptr<Command> make_completion();
#if !defined(_WIN32)
std::unique_ptr<Command> make_mcp();
std::unique_ptr<Command> make_setup();
#endif

/// Every subcommand, in the order `cordon --help` lists them.
inline const CommandEntry commands[] = {
    {"check", make_check},
    {"clamp", make_clamp},
    {"completion", make_completion},
    {"explain", make_explain},
#if !defined(_WIN32)
    {"mcp", make_mcp},
#endif
    {"probe", make_probe},
    {"run", make_run},
#if !defined(_WIN32)
    {"setup", make_setup},
#endif
    {"verify", make_verify},
};

}  // namespace cordon::cli
