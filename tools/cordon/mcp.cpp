// SPDX-License-Identifier: MIT
// cordon mcp: serve the Model Context Protocol on stdio, every tool call bounded by the operator's ceiling.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "ceiling_source.hpp"
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/config.hpp"
#include "cordon/runner.hpp"
#include "mcp/sandbox_tools.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio.hpp"
#include "options.hpp"
#include "static_backends.hpp"

namespace cordon::cli {

namespace {

const CommandDoc mcp_doc{
    "mcp",
    "serve the Model Context Protocol on stdio (tools run in the sandbox)",
    "[OPTIONS]",
    "Serves the Model Context Protocol (MCP 2025-11-25; also 2025-06-18, 2025-03-26,\n"
    "2024-11-05) on stdin and stdout, for an MCP client that starts it. Tools: run_command,\n"
    "read_file, write_file, describe_sandbox. Every call is clamped to the operator's\n"
    "ceiling and runs in the host's sandbox; the executor is verified once, at start.\n"
    "Logs go to stderr; stdout carries only protocol messages (with --json, an error before\n"
    "serving is one JSON object on stdout instead of a log line). A client starts it, e.g.\n"
    "`claude mcp add cordon -- cordon mcp --ceiling FILE`; docs/mcp.md has the details.",
    "0 when the client closed stdin, 128+N after signal N, 2 on a usage error,\n"
    "125 when the ceiling is missing or invalid, 126 when the executor is unavailable or untrusted.",
    "echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}' | CORDON_READONLY_PATHS=/usr cordon mcp --log-level error",
};

int wake_write_fd = -1;
volatile sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
    stop_signal = sig;
    int saved = errno;
    if (wake_write_fd >= 0) (void)!::write(wake_write_fd, "s", 1);
    errno = saved;
}

struct McpArgs {
    std::optional<std::string> ceiling_file, executor, log_level;
    std::optional<std::uint64_t> output_limit, max_read_bytes, max_write_bytes, file_timeout, max_concurrency,
        max_queued, max_message_bytes, progress_interval;
};

void define_mcp_options(CLI::App& app, McpArgs& a) {
    opt::group(app, "Ceiling (one is required)");
    opt::single(app, "--ceiling", a.ceiling_file, "FILE",
                "ceiling file (docs/ceiling.md)\ndefault: " + ceiling_env_names() + " when any is set");
    opt::group(app, "Sandbox");
    opt::single(app, "--executor", a.executor, "PATH", "MXC executor to verify and use (default: MXC_BIN_DIR, cordon's cache, npm prefix)");
    opt::number(app, "--output-limit", a.output_limit, 0, 1u << 30, "BYTES",
                "bytes kept per output stream of run_command (default 65536)");
    opt::number(app, "--max-read-bytes", a.max_read_bytes, 1, 64u << 20, "BYTES", "largest read_file answer (default 1048576)");
    opt::number(app, "--max-write-bytes", a.max_write_bytes, 0, mcp::max_write_bytes_limit, "BYTES",
                "largest write_file content (default 262144, at most 1048576)");
    opt::number(app, "--file-timeout", a.file_timeout, 1, Timeout::max_ms, "MS",
                "time limit of read_file and write_file (default 30000)");
    opt::group(app, "Server");
    opt::number(app, "--max-concurrency", a.max_concurrency, 1, 256, "N", "tool calls running at once (default 4)");
    opt::number(app, "--max-queued", a.max_queued, 0, 4096, "N",
                "calls waiting for a free slot; more are refused (default 16)");
    opt::number(app, "--max-message-bytes", a.max_message_bytes, 1024, detail::max_config_bytes, "BYTES",
                "largest accepted message (default 4194304, at most 8388608)");
    opt::number(app, "--progress-interval", a.progress_interval, 50, 3600000, "MS",
                "progress notifications while a call runs (default 1000)");
    opt::choice(app, "--log-level", a.log_level, {"debug", "info", "notice", "warning", "error"},
                "stderr verbosity (default info)");
}

// What the options set, applied to the server's and the tools' settings.
struct McpSettings {
    mcp::ServerOptions server;
    mcp::SandboxToolsOptions tools;
    std::size_t max_message_bytes = 4u << 20;
    mcp::LogLevel log_level = mcp::LogLevel::info;
};

McpSettings settings_from(const McpArgs& a) {
    McpSettings s;
    s.server.version = CORDON_VERSION_STRING;
    auto& limits = s.tools.limits;
    if (a.output_limit) limits.output_limit = *a.output_limit;
    if (a.max_read_bytes) limits.max_read_bytes = *a.max_read_bytes;
    if (a.max_write_bytes) limits.max_write_bytes = *a.max_write_bytes;
    if (a.file_timeout) limits.file_timeout_ms = static_cast<std::uint32_t>(*a.file_timeout);
    if (a.max_concurrency) s.server.max_concurrency = *a.max_concurrency;
    if (a.max_queued) s.server.max_queued = *a.max_queued;
    if (a.max_message_bytes) s.max_message_bytes = *a.max_message_bytes;
    if (a.progress_interval) s.tools.progress_interval = std::chrono::milliseconds(*a.progress_interval);
    if (a.log_level) s.log_level = *mcp::log_level_from_string(*a.log_level);
    limits.max_concurrency = s.server.max_concurrency;
    return s;
}

// stdout is the protocol stream: the server writes to a private copy of it, and descriptor 1
// becomes stderr, so a stray write anywhere in the process cannot corrupt the stream.
int take_stdout() {
    int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (out >= 0) ::dup2(2, 1);
    return out;
}

// SIGTERM/SIGINT/SIGHUP end the session like a closed stdin (every run's tree is killed first).
// SIGPIPE would kill us on a client that went away; SIGCHLD must not be inherited as ignored,
// or no run's exit status could be collected.
int install_signals() {
    int p[2];
    if (::pipe(p) != 0) return -1;  // before any thread exists, so nothing can fork in between
    for (int fd : p) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
    }
    wake_write_fd = p[1];
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGCHLD, SIG_DFL);
    return p[0];
}

class Mcp final : public Command {
public:
    const CommandDoc& doc() const override { return mcp_doc; }
    void define(CLI::App& app) override { define_mcp_options(app, args_); }
    int run(Output& out) override;

private:
    McpArgs args_;
};

int Mcp::run(Output& cli_out) {
    McpSettings a = settings_from(args_);
    mcp::FdLog log(2, a.log_level);
    // Before serving, an error is a log line (or, with --json, a JSON object on stdout).
    auto startup_error = [&](const Error& e, int status) {
        if (cli_out.json()) return cli_out.fail(e, status);
        log.log(mcp::LogLevel::error, std::string(to_string(e.code)) + ": " + e.to_string());
        return status;
    };

    // The same rules as `cordon run`: --ceiling, or the CORDON_* variables, never both.
    auto ceiling = load_operator_ceiling({args_.ceiling_file, std::nullopt, true}, CeilingOptions{});
    if (!ceiling) return startup_error(ceiling.error(), 125);
    RunnerOptions runner_options;
    runner_options.registry = &static_backends();
    if (args_.executor) runner_options.executor.explicit_path = *args_.executor;
    auto runner = make_runner(runner_options);  // verified once for the whole session
    if (!runner) {
        const ErrorCode code = runner.error().code;
        return startup_error(runner.error(),
                             code == ErrorCode::unavailable || code == ErrorCode::untrusted_executor ? 126 : 125);
    }
    log.log(mcp::LogLevel::info, "serving MCP on stdio: backend " + std::string(to_string(runner->backend())) +
                                     ", executor " + runner->executor().path().string() + " (SDK " +
                                     std::string(runner->executor().sdk_version()) + ", sha256 verified)");

    const int wake = install_signals();
    const int out_fd = take_stdout();
    if (out_fd < 0 || wake < 0) {
        log.log(mcp::LogLevel::error, "cannot set up stdout and signals: " + std::string(std::strerror(errno)));
        return 126;
    }
    mcp::SandboxTools tools(std::move(*runner), std::move(*ceiling), a.tools);
    mcp::FdOutput out(out_fd);
    mcp::Server server(tools, out, log, a.server);
    mcp::StopReason why = mcp::serve_lines(0, wake, a.max_message_bytes, server);
    if (why == mcp::StopReason::end_of_input && server.calls_in_flight() > 0) {
        // The client may still read stdout: let the calls answer. A signal now cancels them.
        log.log(mcp::LogLevel::notice, "stdin closed: waiting for " + std::to_string(server.calls_in_flight()) +
                                           " tool calls to finish (SIGTERM cancels them)");
        std::thread waiter([&] {
            server.drain();
            (void)!::write(wake_write_fd, "d", 1);  // wakes the poll below, as a signal would
        });
        pollfd p{wake, POLLIN, 0};
        while (::poll(&p, 1, -1) < 0 && errno == EINTR) {}
        if (stop_signal) {
            log.log(mcp::LogLevel::notice,
                    "signal " + std::to_string(stop_signal) + ": cancelling the remaining calls");
            server.shutdown();
        }
        waiter.join();
    } else if (server.calls_in_flight() > 0) {
        log.log(mcp::LogLevel::notice, "stopping: cancelling " + std::to_string(server.calls_in_flight()) +
                                           " tool calls and killing their process trees");
    }
    server.shutdown();
    if (why == mcp::StopReason::woken && stop_signal) return 128 + stop_signal;
    return why == mcp::StopReason::read_error ? 1 : 0;
}

}  // namespace

std::unique_ptr<Command> make_mcp() { return std::make_unique<Mcp>(); }

}  // namespace cordon::cli
