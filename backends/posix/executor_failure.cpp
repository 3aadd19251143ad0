// SPDX-License-Identifier: MIT
// cordon POSIX runner: classification of MXC executor failures from exit status and stderr.
#include "executor_failure.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/detail/executor_stderr.hpp"

namespace cordon::posix {
namespace {

using detail::after_line;
using detail::non_empty_lines;
using detail::starts_with;
using detail::trailing_error_object;
using detail::trim;

void fail(RunResult& run, ExecutorFailure kind, std::string_view message,
          CommandStarted started = CommandStarted::no) {
    run.failure = kind;
    run.failure_message = detail::bounded_message(message);
    run.started = started;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// lxc-exec's runner refusals that come before bwrap starts (mxc-1.0.md 4.4, 4.5, 7.6; 0.7.0's
// timeout minimum). Everything else at exit 255 may come after the sandbox was built: a network
// setup that fails during startup leaves the workload running (mxc-1.0.md 9.1).
bool refused_before_start(std::string_view message) {
    if (contains(message, "exited during startup") || contains(message, "could not install the sandbox network policy") ||
        contains(message, "before signalling readiness"))
        return false;
    for (std::string_view refusal :
         {"on PATH", "requires a working", "requires util-linux", "is not supported", "is not installed",
          "is an IPv6 block shorter than", "uses the IPv6 loopback", "must not carry credentials",
          "requires a non-zero proxy port", "is below the minimum", "requires the --allow-testing-features",
          "runner validation failed", "cannot be delegated to the sandbox",
          // the bwrap availability probe, before any sandbox exists (lxc-exec 1.0.1's wording)
          "`bwrap --version`", "Could not determine the Bubblewrap (bwrap) version", "added in bwrap"})
        if (contains(message, refusal)) return true;
    return false;
}

}  // namespace

void classify_executor_failure(RunResult& run) {
    if (run.failure != ExecutorFailure::none) return;
    const std::string_view err = run.err;
    const auto lines = non_empty_lines(err);

    if (run.signal != 0) {
        if (!run.timed_out)
            fail(run, ExecutorFailure::backend_error,
                 "the executor was killed by signal " + std::to_string(run.signal), CommandStarted::maybe);
        return;
    }

    if (run.exit_code == 1 && !lines.empty()) {
        if (lines.front() == "Request error") {
            auto detail = trim(after_line(err, lines.front()));
            fail(run, ExecutorFailure::config_rejected, detail.empty() ? "Request error" : detail);
            return;
        }
        if (starts_with(lines.front(), "Error: No config provided")) {
            fail(run, ExecutorFailure::config_rejected, lines.front());
            return;
        }
        if (starts_with(lines.front(), "error: the '") &&
            lines.front().find("' backend is not available") != std::string_view::npos) {
            fail(run, ExecutorFailure::backend_unavailable, lines.front());
            return;
        }
        if (starts_with(lines.back(), "bwrap: ")) {
            fail(run, ExecutorFailure::launch_failed, lines.back());
            return;
        }
        return;
    }

    if (run.exit_code == 255) {
        if (auto message = trailing_error_object(err)) {
            fail(run, ExecutorFailure::backend_error, *message);
        } else if (run.err_dropped > 0) {
            fail(run, ExecutorFailure::backend_error,
                 "the executor exited with 255; its stderr exceeded the output limit, so its message was dropped");
        } else if (!lines.empty()) {
            fail(run, ExecutorFailure::backend_error, lines.back());
        } else if (run.out.find("Result: validation failed") != std::string::npos) {
            fail(run, ExecutorFailure::backend_error, "the executor's runner validation failed (it does not say why)");
        } else {
            fail(run, ExecutorFailure::backend_error, "the executor exited with 255 without a message");
        }
        // lxc-exec (0.9.0 on) kills the tree at process.timeout itself and reports `script timed out
        // after Nms`: the command ran, and the run timed out. A refusal before start did not run it.
        if (contains(run.failure_message, "timed out after")) {
            run.started = CommandStarted::yes;
            run.timed_out = true;
        } else if (!refused_before_start(run.failure_message)) run.started = CommandStarted::maybe;
        return;
    }

    // clap: "error: unexpected argument '--x' found" ... "Usage: ..." ... "For more information, try '--help'."
    if (run.exit_code == 2 && !lines.empty() && starts_with(lines.front(), "error: ") &&
        err.find("Usage: ") != std::string_view::npos) {
        fail(run, ExecutorFailure::backend_error,
             "the executor refused its command line: " + std::string(lines.front()));
    }
}

}  // namespace cordon::posix
