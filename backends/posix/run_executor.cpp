// SPDX-License-Identifier: MIT
// cordon POSIX runner: run_executor() composes config delivery, run_process and classification.
#include "run_executor.hpp"

#include <unistd.h>

#include "config_delivery.hpp"
#include "executor_failure.hpp"

namespace cordon::posix {
namespace {

// Root in the sandbox's user namespace is host root when the executor runs as uid 0: it could
// remount grants read-write, unmount deniedPaths masks and write /proc/sys. Never start it so.
Status refuse_root(const RunOptions& options) {
    if (::geteuid() != 0 || options.run_as) return {};
    return make_error(ErrorCode::execution_failed,
                      "refusing to run the MXC executor as root: the sandbox would hold host root's capabilities. "
                      "Choose the unprivileged user it runs as (RunOptions::run_as; `cordon run --run-as USER`), "
                      "or run cordon as that user",
                      "run_as");
}

// Interactive runs have one terminal for both streams: classify what it showed.
void classify(RunResult& run, bool interactive) {
    if (!interactive) return classify_executor_failure(run);
    RunResult view = run;
    view.err = run.out;
    view.err_dropped = run.out_dropped;
    classify_executor_failure(view);
    run.failure = view.failure;
    run.failure_message = view.failure_message;
}

// Of a streamed stderr the runner kept the tail beside the head, for the classification; now the
// result keeps what it keeps of stdout (kept_bytes).
void keep_streamed_stderr_head(RunResult& run, const RunOptions& o) {
    const std::size_t kept = kept_bytes(o, o.stderr_fd);
    if (run.err.size() <= kept) return;
    run.err.resize(kept);
    run.err.shrink_to_fit();
}

}  // namespace

std::vector<std::string> executor_argv(const detail::RunRequest& req, const ExecutorLaunch& launch,
                                       const std::vector<std::string>& config_args) {
    std::string name = req.executor_path.substr(req.executor_path.find_last_of('/') + 1);
    std::vector<std::string> argv{name.empty() ? "mxc-executor" : name};
    argv.insert(argv.end(), launch.flags.begin(), launch.flags.end());
    argv.insert(argv.end(), config_args.begin(), config_args.end());
    return argv;
}

Result<ProcessResult> run_executor(const detail::RunRequest& req, const ExecutorLaunch& launch) {
    if (auto s = refuse_root(req.options); !s) return s.error();
    auto config = DeliveredConfig::make(req.config_json, req.options.delivery, launch.config_parent_dir,
                                        req.options.run_as);
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
    if (config->descriptor() >= 0) spec.keep_fds.push_back(config->descriptor());

    auto result = run_process(spec);
    if (result) {
        classify(result->run, req.options.stdin_mode == StdinMode::interactive);
        keep_streamed_stderr_head(result->run, req.options);
        result->run.invocation = spec.argv;
    }
    return result;  // `config` goes out of scope here: the descriptor is closed, the private file removed
}

}  // namespace cordon::posix
