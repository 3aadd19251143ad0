// SPDX-License-Identifier: MIT
// cordon POSIX runner: run_executor() composes config delivery, run_process and classification.
#include "run_executor.hpp"

#include "config_delivery.hpp"
#include "executor_failure.hpp"

namespace cordon::posix {

std::vector<std::string> executor_argv(const detail::RunRequest& req, const ExecutorLaunch& launch,
                                       const std::vector<std::string>& config_args) {
    std::string name = req.executor_path.substr(req.executor_path.find_last_of('/') + 1);
    std::vector<std::string> argv{name.empty() ? "mxc-executor" : name};
    argv.insert(argv.end(), launch.flags.begin(), launch.flags.end());
    argv.insert(argv.end(), config_args.begin(), config_args.end());
    return argv;
}

Result<ProcessResult> run_executor(const detail::RunRequest& req, const ExecutorLaunch& launch) {
    auto config = DeliveredConfig::make(req.config_json, req.options.delivery, launch.config_parent_dir);
    if (!config) return config.error();

    SpawnSpec spec;
    spec.executor_fd = req.executor_fd;
    spec.executor_path = req.executor_path;
    spec.argv = executor_argv(req, launch, config->args());
    spec.env = launch.env;
    spec.cwd = launch.cwd;
    spec.timeout_ms = req.timeout_ms;
    spec.options = req.options;
    spec.drain_ms = launch.drain_ms;

    auto result = run_process(spec);
    if (result) {
        classify_executor_failure(result->run);
        result->run.invocation = spec.argv;
    }
    return result;  // `config` goes out of scope here: the private file is removed
}

}  // namespace cordon::posix
