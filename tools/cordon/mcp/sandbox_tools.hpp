// SPDX-License-Identifier: MIT
// cordon mcp: the real tools: one verified Runner, every call clamped to the ceiling and run in the sandbox.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cordon/ceiling.hpp"
#include "cordon/clamp.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"
#include "cordon/runner.hpp"
#include "tools.hpp"

namespace cordon::mcp {

struct SandboxToolsOptions {
    ToolLimits limits;
    std::uint32_t grace_ms = 2000;  ///< SIGTERM -> SIGKILL on timeout and cancellation
    std::chrono::milliseconds progress_interval{1000};
    ConfigDelivery delivery = ConfigDelivery::file;
};

/// The largest write_file content: it reaches the sandbox in environment variables, and Linux
/// bounds one exec's arguments and environment together (a quarter of the stack limit, 2 MiB by default).
inline constexpr std::size_t max_write_bytes_limit = 1024 * 1024;

/// The four tools over one Runner, made (and its executor verified) once for the whole session.
/// read_file and write_file are contained processes with exactly one grant (the file, or the
/// directory it goes to), so the kernel enforces the grant and cordon's own process never opens
/// the agent's paths.
class SandboxTools : public McpTools {
public:
    SandboxTools(Runner runner, Ceiling ceiling, SandboxToolsOptions options);

    RunCommandResult run_command(const RunCommandArgs& args, CancelToken& cancel, ProgressSink& progress) override;
    ReadFileResult read_file(const ReadFileArgs& args, CancelToken& cancel, ProgressSink& progress) override;
    WriteFileResult write_file(const WriteFileArgs& args, CancelToken& cancel, ProgressSink& progress) override;
    SandboxDescription describe_sandbox() override;
    ToolLimits limits() const override { return options_.limits; }

private:
    std::optional<ToolError> grant_for_file(const std::string& path, bool write, Policy& policy) const;
    Result<RunResult> run_in_sandbox(const Policy& policy, std::size_t output_limit, CancelToken& cancel,
                                     ProgressSink& progress) const;

    Runner runner_;
    Ceiling ceiling_;
    SandboxToolsOptions options_;
    ClampOptions clamp_options_;
};

/// The request `cordon run` would build from these arguments (command line, cwd, env, timeout,
/// network, grants). Errors name the argument ("/argv/2").
Result<Policy> request_for(const RunCommandArgs& args);

/// The tool argument a JSON pointer into the MXC request came from ("/process/env/1" -> "/env/HOME").
std::string argument_for(const std::string& field, const RunCommandArgs& args);

/// The clamp report with each decision's tool argument.
std::vector<Decision> decisions_for(const ClampReport& report, const RunCommandArgs& args);

/// The tool argument behind a pointer into the *clamped* policy (what Runner::prepare reports):
/// the requested item whose clamp result produced that entry; empty when none did.
std::string argument_for_clamped(const std::string& where, const Policy& clamped,
                                 const std::vector<Decision>& decisions);

/// sh -c SCRIPT with positional arguments, quoted so that no argument is shell syntax.
Result<std::string> script_command_line(const std::string& script, const std::vector<std::string>& args);

}  // namespace cordon::mcp
