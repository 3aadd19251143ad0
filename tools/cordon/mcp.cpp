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
#include "cli.hpp"
#include "commands.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/config.hpp"
#include "cordon/runner.hpp"
#include "mcp/sandbox_tools.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio.hpp"
#include "static_backends.hpp"

namespace cordon::cli {

extern const std::string_view mcp_help =
    "Usage: cordon mcp [OPTIONS]\n"
    "\n"
    "Serves the Model Context Protocol (MCP 2025-11-25; also 2025-06-18, 2025-03-26,\n"
    "2024-11-05) on stdin and stdout, for an MCP client that starts it. Tools: run_command,\n"
    "read_file, write_file, describe_sandbox. Every call is clamped to the operator's\n"
    "ceiling and runs in the host's sandbox; the executor is verified once, at start.\n"
    "Logs go to stderr; stdout carries only protocol messages. docs/mcp.md has the details.\n"
    "\n"
    "Ceiling (one is required):\n"
    "  --ceiling FILE            ceiling file (docs/ceiling.md)\n"
    "                            default: CORDON_READONLY_PATHS, CORDON_READWRITE_PATHS,\n"
    "                            CORDON_TIMEOUT_MS, CORDON_NETWORK, CORDON_ENV_ALLOW ... when set\n"
    "Sandbox:\n"
    "  --executor PATH           MXC executor to verify and use (default: MXC_BIN_DIR, npm prefix)\n"
    "  --output-limit BYTES      bytes kept per output stream of run_command (default 65536)\n"
    "  --max-read-bytes BYTES    largest read_file answer (default 1048576)\n"
    "  --max-write-bytes BYTES   largest write_file content (default 262144, at most 1048576)\n"
    "  --file-timeout MS         time limit of read_file and write_file (default 30000)\n"
    "Server:\n"
    "  --max-concurrency N       tool calls running at once (default 4)\n"
    "  --max-queued N            calls waiting for a free slot; more are refused (default 16)\n"
    "  --max-message-bytes BYTES largest accepted message (default 4194304, at most 8388608)\n"
    "  --progress-interval MS    progress notifications while a call runs (default 1000)\n"
    "  --log-level LEVEL         stderr verbosity: debug, info, notice, warning, error (default info)\n"
    "\n"
    "Exit status: 0 when the client closed stdin, 128+N after signal N, 2 on a usage error,\n"
    "125 when the ceiling is missing or invalid, 126 when the executor is unavailable or untrusted.\n"
    "\n"
    "Example (Claude Desktop, VS Code and other clients: docs/mcp.md):\n"
    "  claude mcp add cordon -- cordon mcp --ceiling /etc/cordon/agent-ceiling.json\n";

namespace {

int wake_write_fd = -1;
volatile sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
    stop_signal = sig;
    int saved = errno;
    if (wake_write_fd >= 0) (void)!::write(wake_write_fd, "s", 1);
    errno = saved;
}

struct McpArgs {
    std::optional<std::string> ceiling_file, executor;
    mcp::ServerOptions server;
    mcp::SandboxToolsOptions tools;
    std::size_t max_message_bytes = 4u << 20;
    mcp::LogLevel log_level = mcp::LogLevel::info;
};

std::optional<std::uint64_t> number(std::string_view s, std::uint64_t min, std::uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > max) return std::nullopt;
    }
    return n < min ? std::nullopt : std::optional<std::uint64_t>(n);
}

// Each numeric option: its name, where it goes, and its bounds.
std::optional<std::string> numeric_option(std::string_view name, std::string_view value, McpArgs& a) {
    struct Numeric {
        std::string_view name;
        std::uint64_t min, max;
        void (*set)(McpArgs&, std::uint64_t);
    };
    static const Numeric table[] = {
        {"--output-limit", 0, 1u << 30, [](McpArgs& a, std::uint64_t n) { a.tools.limits.output_limit = n; }},
        {"--max-read-bytes", 1, 64u << 20, [](McpArgs& a, std::uint64_t n) { a.tools.limits.max_read_bytes = n; }},
        {"--max-write-bytes", 0, mcp::max_write_bytes_limit,
         [](McpArgs& a, std::uint64_t n) { a.tools.limits.max_write_bytes = n; }},
        {"--file-timeout", 1, 4294967295u,
         [](McpArgs& a, std::uint64_t n) { a.tools.limits.file_timeout_ms = static_cast<std::uint32_t>(n); }},
        {"--max-concurrency", 1, 256, [](McpArgs& a, std::uint64_t n) { a.server.max_concurrency = n; }},
        {"--max-queued", 0, 4096, [](McpArgs& a, std::uint64_t n) { a.server.max_queued = n; }},
        {"--max-message-bytes", 1024, detail::max_config_bytes,
         [](McpArgs& a, std::uint64_t n) { a.max_message_bytes = n; }},
        {"--progress-interval", 50, 3600000,
         [](McpArgs& a, std::uint64_t n) { a.tools.progress_interval = std::chrono::milliseconds(n); }},
    };
    for (const auto& t : table) {
        if (t.name != name) continue;
        auto n = number(value, t.min, t.max);
        if (!n)
            return std::string(name) + ": expected a number from " + std::to_string(t.min) + " to " +
                   std::to_string(t.max);
        t.set(a, *n);
        return std::nullopt;
    }
    return "unknown option '" + std::string(name) + "'";
}

std::optional<std::string> parse_args(const Args& args, McpArgs& a) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view name = args[i];
        if (i + 1 >= args.size()) return "option " + std::string(name) + " needs a value (or is unknown)";
        std::string_view value = args[++i];
        if (name == "--ceiling")
            a.ceiling_file = std::string(value);
        else if (name == "--executor")
            a.executor = std::string(value);
        else if (name == "--log-level") {
            auto level = mcp::log_level_from_string(value);
            if (!level) return "--log-level: expected debug, info, notice, warning or error";
            a.log_level = *level;
        } else if (auto problem = numeric_option(name, value, a)) {
            return problem;
        }
    }
    return std::nullopt;
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

}  // namespace

int run_mcp(const Args& args) {
    for (auto a : args)
        if (is_help(a)) {
            std::cout << mcp_help;
            return 0;
        }
    McpArgs a;
    a.server.version = CORDON_VERSION_STRING;
    if (auto problem = parse_args(args, a)) return usage_error("mcp", *problem);
    a.tools.limits.max_concurrency = a.server.max_concurrency;
    mcp::FdLog log(2, a.log_level);

    // The same rules as `cordon run`: --ceiling, or the CORDON_* variables, never both.
    auto ceiling = load_operator_ceiling({a.ceiling_file, std::nullopt, true}, CeilingOptions{});
    if (!ceiling) {
        log.log(mcp::LogLevel::error,
                std::string(to_string(ceiling.error().code)) + ": " + ceiling.error().to_string());
        return 125;
    }
    RunnerOptions runner_options;
    runner_options.registry = &static_backends();
    if (a.executor) runner_options.executor.explicit_path = *a.executor;
    auto runner = make_runner(runner_options);  // verified once for the whole session
    if (!runner) {
        log.log(mcp::LogLevel::error, std::string(to_string(runner.error().code)) + ": " + runner.error().to_string());
        return runner.error().code == ErrorCode::unavailable || runner.error().code == ErrorCode::untrusted_executor
                   ? 126
                   : 125;
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

}  // namespace cordon::cli
