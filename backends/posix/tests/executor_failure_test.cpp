// SPDX-License-Identifier: MIT
// Executor failure classification on stderr recorded from lxc-exec 0.7.0/0.9.0
// (../shared/reference/mxc/bwrap-traces.json and ../shared/docs/mxc-contract.md c.2, d.3).
#include "executor_failure.hpp"

#include <doctest/doctest.h>

#include <string>

using cordon::CommandStarted;
using cordon::ExecutorFailure;
using cordon::RunResult;
using cordon::posix::classify_executor_failure;

namespace {

RunResult classified(int exit_code, std::string err, std::string out = {}) {
    RunResult r;
    r.exit_code = exit_code;
    r.err = std::move(err);
    r.out = std::move(out);
    classify_executor_failure(r);
    return r;
}

}  // namespace

TEST_SUITE("executor-failure") {
    TEST_CASE("a leading Request error line is a config rejection, with the executor's detail") {
        // 0.9.0, bad_unknown_nested_process.json
        auto r = classified(1,
            "Request error\nConfiguration parse error: Invalid configuration at `process.args`: unknown field `args`, "
            "expected one of `commandLine`, `cwd`, `env`, `timeout` at line 5 column 10\n");
        CHECK(r.failure == ExecutorFailure::config_rejected);
        CHECK(r.failure_message.rfind("Configuration parse error: Invalid configuration at `process.args`", 0) == 0);
        CHECK(r.failure_message.find("Request error") == std::string::npos);
        // 0.7.0 wording, and delivery failures (d.1)
        CHECK(classified(1, "Request error\nUnknown top-level field(s) in config: policy. Remove them or check for "
                            "typos (field names are case-sensitive, e.g. 'filesystem' not 'fileSystem').\n")
                  .failure == ExecutorFailure::config_rejected);
        CHECK(classified(1, "Request error\nFailed to decode base64 configuration\n").failure_message ==
              "Failed to decode base64 configuration");
        CHECK(classified(1, "Request error\n").failure_message == "Request error");
        CHECK(classified(1, "Error: No config provided. Use a positional path, --config, or --config-base64\n").failure ==
              ExecutorFailure::config_rejected);
    }

    TEST_CASE("backend not available (0.9.0), followed by its log lines") {
        auto r = classified(1,
            "error: the 'processcontainer' backend is not available on Linux\nScript code length: 15\n"
            "Working directory: \nScript timeout: 0\nContainer name: \n");
        CHECK(r.failure == ExecutorFailure::backend_unavailable);
        CHECK(r.failure_message == "error: the 'processcontainer' backend is not available on Linux");
    }

    TEST_CASE("bwrap launch failures are launch_failed") {
        auto r = classified(1, "bwrap: Can't find source path /tmp/mxcfx/does-not-exist: No such file or directory\n");
        CHECK(r.failure == ExecutorFailure::launch_failed);
        CHECK(r.failure_message == "bwrap: Can't find source path /tmp/mxcfx/does-not-exist: No such file or directory");
        CHECK(classified(1, "bwrap: Can't chdir to /tmp/mxcfx/work: No such file or directory\n").failure ==
              ExecutorFailure::launch_failed);
        CHECK(classified(1, "bwrap: Can't mkdir /tmp/mxcfx/ro/secret.txt: Not a directory\n").failure ==
              ExecutorFailure::launch_failed);
        // The same line from a command that exited 0 or 2 is the command's business.
        CHECK(classified(0, "bwrap: Can't find source path x: No such file or directory\n").failure ==
              ExecutorFailure::none);
    }

    TEST_CASE("255 from the bwrap availability probe: refused before start, not 'may have run'") {
        // lxc-exec 1.0.1's probe messages (its format strings); the probe runs before any sandbox
        for (std::string message :
             {"failed to start the `bwrap --version` probe: Permission denied (os error 13)",
              "The Bubblewrap (bwrap) availability probe `bwrap --version` failed without an exit status",
              "Could not determine the Bubblewrap (bwrap) version: `bwrap --version` printed nothing",
              "the sandbox uses `--clearenv`, added in bwrap 0.5.0"}) {
            CAPTURE(message);
            auto r = classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"" + message + "\"}}\n");
            CHECK(r.failure == ExecutorFailure::backend_error);
            CHECK(r.started == CommandStarted::no);
        }
        // control: a failure after the sandbox started may have run the command
        auto late = classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"bwrap exited during startup\"}}\n");
        CHECK(late.started == CommandStarted::maybe);
    }

    TEST_CASE("0.9.0: the message with a trailing {\"error\":...} object, no newline in between, exit 255") {
        auto r = classified(255,
            "Bubblewrap: network policy error: ip6tables is unusable but the namespace being filtered has active IPv6; "
            "refusing to apply an IPv4-only policy that would leave IPv6 egress unfiltered"
            "{\"error\":{\"code\":\"backend_error\",\"message\":\"Bubblewrap: network policy error: ip6tables is "
            "unusable but the namespace being filtered has active IPv6; refusing to apply an IPv4-only policy that "
            "would leave IPv6 egress unfiltered\"}}\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message.rfind("Bubblewrap: network policy error: ip6tables is unusable", 0) == 0);
        CHECK(r.failure_message.find("{\"error\"") == std::string::npos);

        auto timeout = classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"script timed out after 2000ms\"}}\n");
        CHECK(timeout.failure == ExecutorFailure::backend_error);
        CHECK(timeout.failure_message == "script timed out after 2000ms");
        CHECK(timeout.timed_out);  // the executor's own timeout is the run's: the backend says so
        CHECK(timeout.started == CommandStarted::yes);
        CHECK_FALSE(classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"mount failed\"}}\n").timed_out);
    }

    TEST_CASE("the last error object wins, even when the command printed one before") {
        auto r = classified(255,
            "{\"error\":{\"code\":\"x\",\"message\":\"from the command\"}}\nreal message"
            "{\"error\":{\"code\":\"backend_error\",\"message\":\"real message\"}}");
        CHECK(r.failure_message == "real message");
    }

    TEST_CASE("0.7.0: exit 255 with a bare message; dry-run validation failure; nothing at all") {
        auto r = classified(255, "Bubblewrap: network policy error: Failed to run iptables: No such file or directory (os error 2)");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message == "Bubblewrap: network policy error: Failed to run iptables: No such file or directory (os error 2)");

        auto dry = classified(255, "", "Script code length: 4\nDry run completed. Result: validation failed\n");
        CHECK(dry.failure == ExecutorFailure::backend_error);
        CHECK(dry.failure_message.find("validation failed") != std::string::npos);

        // 0.7.0 timeout: the workload's output on stdout, nothing on stderr
        auto silent = classified(255, "", "not-reached\n");
        CHECK(silent.failure == ExecutorFailure::backend_error);
        CHECK_FALSE(silent.failure_message.empty());
    }

    TEST_CASE("a truncated error object (output limit) still gives backend_error, saying why the message is gone") {
        RunResult r;
        r.exit_code = 255;
        r.err = std::string(100, 'x');
        r.err_dropped = 5000;
        classify_executor_failure(r);
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message.find("output limit") != std::string::npos);
    }

    TEST_CASE("a malformed trailing object falls back to the text") {
        auto r = classified(255, "boom{\"error\":{\"code\":");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message == "boom{\"error\":{\"code\":");
    }

    TEST_CASE("the contained command's own statuses are not executor failures") {
        CHECK(classified(0, "").failure == ExecutorFailure::none);
        CHECK(classified(7, "").failure == ExecutorFailure::none);  // exit_code_7 trace
        CHECK(classified(2, "sh: 1: cannot create /tmp/mxcfx/ro/sub/f: Read-only file system\n").failure ==
              ExecutorFailure::none);
        CHECK(classified(1, "grep: nothing\n").failure == ExecutorFailure::none);
        CHECK(classified(1, "").failure == ExecutorFailure::none);
        // Request error after other output is not the executor's leading line
        CHECK(classified(1, "hello\nRequest error\n").failure == ExecutorFailure::none);
        // 'Request error' with another exit code is not the executor's either
        CHECK(classified(3, "Request error\nx\n").failure == ExecutorFailure::none);
    }

    TEST_CASE("clap usage errors (exit 2) mean cordon called the executor wrongly") {
        auto r = classified(2,
            "error: unexpected argument '--bogus' found\n\nUsage: lxc-exec [OPTIONS] [CONFIG_PATH]\n\n"
            "For more information, try '--help'.\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message.find("--bogus") != std::string::npos);
    }

    TEST_CASE("signals: cordon's own timeout is not a failure, any other killer is") {
        RunResult killed;
        killed.signal = 9;
        classify_executor_failure(killed);
        CHECK(killed.failure == ExecutorFailure::backend_error);
        CHECK(killed.failure_message.find("signal 9") != std::string::npos);

        RunResult timed_out;
        timed_out.signal = 15;
        timed_out.timed_out = true;
        classify_executor_failure(timed_out);
        CHECK(timed_out.failure == ExecutorFailure::none);
    }

    TEST_CASE("an existing spawn failure is kept; messages are bounded") {
        RunResult r;
        r.failure = ExecutorFailure::spawn_failed;
        r.failure_message = "cannot start x";
        r.exit_code = 255;
        r.err = "{\"error\":{\"code\":\"backend_error\",\"message\":\"m\"}}";
        classify_executor_failure(r);
        CHECK(r.failure == ExecutorFailure::spawn_failed);
        CHECK(r.failure_message == "cannot start x");

        auto big = classified(255, std::string(100000, 'y'));
        CHECK(big.failure_message.size() < 5000);
    }
}
