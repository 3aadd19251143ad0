// SPDX-License-Identifier: MIT
// cordon CLI: the subcommands, each defined in its own file.
#pragma once

#include <string_view>

#include "cli.hpp"

namespace cordon::cli {

extern const std::string_view check_help;
int run_check(const Args& args);
extern const std::string_view verify_help;
int run_verify(const Args& args);

extern const std::string_view clamp_help;
int run_clamp(const Args& args);
extern const std::string_view explain_help;
int run_explain(const Args& args);
extern const std::string_view probe_help;
int run_probe(const Args& args);
extern const std::string_view run_help;
int run_run(const Args& args);
#if !defined(_WIN32)
extern const std::string_view mcp_help;
int run_mcp(const Args& args);
#endif

inline const Command commands[] = {
    {"check", "validate MXC config files against their contract", check_help, run_check},
    {"clamp", "narrow an untrusted MXC request to the operator ceiling", clamp_help, run_clamp},
    {"explain", "show, as a table, how a request was clamped and why", explain_help, run_explain},
#if !defined(_WIN32)
    {"mcp", "serve the Model Context Protocol on stdio (tools run in the sandbox)", mcp_help, run_mcp},
#endif
    {"probe", "show the backend, the verified executor and what it enforces", probe_help, run_probe},
    {"run", "run a command in the sandbox, bounded by the operator's ceiling", run_help, run_run},
    {"verify", "find the MXC executor and check it against the pinned SHA-256", verify_help, run_verify},
};

}  // namespace cordon::cli
