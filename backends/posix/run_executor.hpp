// SPDX-License-Identifier: MIT
// cordon POSIX runner: one MXC executor run from a backend request (config delivery + spawn + classification).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cordon/detail/run_wire.hpp"
#include "cordon/error.hpp"
#include "posix_runner.hpp"

namespace cordon::posix {

/// What a backend adds to a request to start its executor.
struct ExecutorLaunch {
    std::vector<std::string> flags;  ///< after argv[0], before --dry-run and the config, e.g. {"--experimental"}
    std::vector<std::string> env;    ///< the executor's whole environment ("KEY=VALUE")
    std::string cwd;                 ///< empty = the caller's
    std::string config_parent_dir;   ///< where a private config directory goes; empty = $TMPDIR or /tmp
    std::uint32_t drain_ms = 250;    ///< see SpawnSpec::drain_ms
};

/// The executor's argv: basename(executor_path) (or "mxc-executor"), launch.flags, then
/// `config_args` (DeliveredConfig::args()). A dry run (req.options.dry_run) spawns nothing, so it
/// is the backend's business, not the executor's.
std::vector<std::string> executor_argv(const detail::RunRequest& req, const ExecutorLaunch& launch,
                                       const std::vector<std::string>& config_args);

/// Delivers req.config_json as req.options.delivery says, runs the executor (req.executor_fd, else
/// req.executor_path) under run_process() with req.timeout_ms and the request's options (grace,
/// output limit, cancel, stdin, sinks, run_as, limits), closes the config descriptor or removes
/// the private config file afterwards (also after a timeout or a spawn failure), classifies the
/// executor's own failure (classify_executor_failure; in an interactive run, on what the terminal
/// showed) and records the argv in `run.invocation`.
/// Errors: execution_failed when the caller is root and req.options.run_as is unset (the executor
/// never runs as root); those of DeliveredConfig::make and run_process.
Result<ProcessResult> run_executor(const detail::RunRequest& req, const ExecutorLaunch& launch);

}  // namespace cordon::posix
