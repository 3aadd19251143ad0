// SPDX-License-Identifier: MIT
// cordon CLI: the subcommands, each defined in its own file.
#pragma once

#include <string_view>

#include "cli.hpp"

namespace cordon::cli {

extern const std::string_view check_help;
int run_check(const Args& args);

inline const Command commands[] = {
    {"check", "validate MXC config files against their contract", check_help, run_check},
};

}  // namespace cordon::cli
