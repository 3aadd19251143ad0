// SPDX-License-Identifier: MIT
// cordon processcontainer backend: classification of wxc-exec.exe failures from exit code and stderr.
#include "executor_output.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/detail/executor_stderr.hpp"

namespace cordon::processcontainer {
namespace {

using detail::after_line;
using detail::starts_with;
using detail::trailing_error_object;
using detail::trim;

// Non-empty lines, without the DACL recovery report wxc-exec prints first when it repaired leftovers.
std::vector<std::string_view> meaningful_lines(std::string_view text) {
    auto lines = detail::non_empty_lines(text);
    if (!lines.empty() && starts_with(lines.front(), "DACL recovery:")) lines.erase(lines.begin());
    return lines;
}

void fail(RunResult& run, ExecutorFailure kind, std::string_view message) {
    run.failure = kind;
    run.failure_message = detail::bounded_message(message);
    run.started = CommandStarted::no;
}

}  // namespace

void classify_executor_output(RunResult& run) {
    if (run.failure != ExecutorFailure::none || run.timed_out) return;
    const std::string_view err = run.err;
    const auto lines = meaningful_lines(err);

    if (run.exit_code == 1 && !lines.empty()) {
        const auto first = lines.front();
        if (first == "Request error") {
            auto detail = trim(after_line(err, first));
            fail(run, ExecutorFailure::config_rejected, detail.empty() ? first : detail);
        } else if (starts_with(first, "Error: No config provided")) {
            fail(run, ExecutorFailure::config_rejected, first);
        } else if ((starts_with(first, "error: ") || starts_with(first, "Error: ")) &&
                   (first.find(" backend is not available") != std::string_view::npos ||
                    first.find(" backend not available on ") != std::string_view::npos)) {
            fail(run, ExecutorFailure::backend_unavailable, first);
        } else if (starts_with(first, "error: BaseContainer is unavailable")) {
            fail(run, ExecutorFailure::launch_failed, first);
        } else if (auto message = trailing_error_object(err)) {
            // 1.0.1 reports its policy validation before any launch as exit 1 with only the error object.
            fail(run, ExecutorFailure::backend_error, *message);
        }
        return;
    }
    // Rust's exit(-1): GetExitCodeProcess reports 0xFFFFFFFF (-1 here); a POSIX parent sees 255.
    if (run.exit_code == 255 || run.exit_code == -1) {
        if (auto message = trailing_error_object(err)) fail(run, ExecutorFailure::backend_error, *message);
        else if (run.err_dropped > 0)
            fail(run, ExecutorFailure::backend_error,
                 "wxc-exec exited with its failure code; its stderr exceeded the output limit, so its message was dropped");
        else if (!lines.empty()) fail(run, ExecutorFailure::backend_error, lines.back());
        else fail(run, ExecutorFailure::backend_error, "wxc-exec exited with its failure code without a message");
        // "Initialization error: ..." is the container set-up failing before any launch; any other
        // failure may come after the command started (mxc-1.0.md 9.1 on Linux; unshown on Windows).
        if (run.failure_message.find("timed out after") != std::string::npos) {  // the executor's own timeout
            run.started = CommandStarted::yes;
            run.timed_out = true;
        } else if (!starts_with(run.failure_message, "Initialization error")) run.started = CommandStarted::maybe;
        return;
    }
    if (run.exit_code == 2 && !lines.empty() && starts_with(lines.front(), "error: ") &&
        err.find("Usage: ") != std::string_view::npos)
        fail(run, ExecutorFailure::backend_error, "wxc-exec refused its command line: " + std::string(lines.front()));
}

}  // namespace cordon::processcontainer
