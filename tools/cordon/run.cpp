// SPDX-License-Identifier: MIT
// cordon run: run a command under the operator's ceiling, narrowed by what the caller asks for.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ceiling_source.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/base64.hpp"
#include "cordon/detail/output_file.hpp"
#include "cordon/detail/utf8.hpp"
#include "cordon/names.hpp"
#include "cordon/posix_command_line.hpp"
#include "cordon/runner.hpp"
#include "cordon/windows_command_line.hpp"
#include "run_signals.hpp"
#include "static_backends.hpp"

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace cordon::cli {

extern const std::string_view run_help =
    "Usage: cordon run [OPTIONS] -- ARGV...\n"
    "\n"
    "Runs ARGV inside the host's MXC sandbox (bubblewrap on Linux, Seatbelt on macOS,\n"
    "ProcessContainer on Windows). The options form the request; the operator's ceiling\n"
    "bounds it, and the request can only narrow the ceiling. Without a ceiling nothing runs.\n"
    "\n"
    "Ceiling (one is required):\n"
    "  --ceiling FILE        ceiling file (docs/ceiling.md)\n"
    "                        default: CORDON_READONLY_PATHS, CORDON_READWRITE_PATHS,\n"
    "                        CORDON_TIMEOUT_MS, CORDON_NETWORK, CORDON_ENV_ALLOW ... when set\n"
    "                        The ceiling also names the sandbox's user (runAs, CORDON_RUN_AS;\n"
    "                        as root the default is nobody: never host root inside).\n"
    "Request:\n"
    "  --ro PATH             read-only grant (repeatable)\n"
    "  --rw PATH             read-write grant (repeatable)\n"
    "  --timeout MS          timeout in milliseconds (0 = none; the ceiling's limit still applies)\n"
    "  --network block|allow network default (the ceiling decides whether allow is possible)\n"
    "  --env KEY=VALUE       environment variable for the command (repeatable; ceiling allow-list)\n"
    "  --cwd DIR             working directory (must lie inside a granted path)\n"
    "Running:\n"
    "  --executor PATH       MXC executor to verify and use (default: MXC_BIN_DIR, npm prefix)\n"
    "  --no-verify-cache     hash the executor even if this unchanged file was verified before\n"
    "                        (also CORDON_VERIFY_CACHE=off; docs/executor-trust.md)\n"
    "  --stdin auto|pass|null  the command's stdin: pass = a copy of ours, null = /dev/null;\n"
    "                        auto (default): pass unless our stdin is a terminal (then null)\n"
    "  --interactive         a terminal of the run's own for stdin, stdout and stderr, wired to\n"
    "                        ours (docs/cli.md, \"Interactive use\"); output is then not capped\n"
    "                        and stdout/stderr are one stream; not with --json\n"
    "  --config-base64       pass the config in argv instead of a sealed descriptor\n"
    "  --config-file         pass the config as a private 0600 file (refused inside a grant)\n"
    "  --output-limit BYTES  bytes kept per output stream (default 1048576)\n"
    "  --dry-run             print the MXC config and the executor invocation; run nothing\n"
    "  --json                print the whole result as one JSON object\n"
    "  --report FILE         write the clamp report (JSON) to FILE\n"
    "\n"
    "Output streams as it arrives (stdout and stderr apart, each capped), except with --json.\n"
    "SIGTERM, SIGINT and SIGHUP kill the command's whole tree; cordon then exits 128+signal.\n"
    "\n"
    "Exit status: the command's own, 124 on timeout, 125 when the policy is refused or\n"
    "invalid (or a usage error), 126 when the executor is unavailable, untrusted or failed,\n"
    "128+N after signal N.\n"
    "\n"
    "Example:\n"
    "  CORDON_READONLY_PATHS=$HOME/Documents CORDON_READWRITE_PATHS=/tmp/work \\\n"
    "    cordon run --ro $HOME/Documents --rw /tmp/work --cwd /tmp/work -- \\\n"
    "    sh -c 'wc -l ~/Documents/*.txt > counts.txt'\n";

namespace {

constexpr int exit_timeout = 124;
constexpr int exit_refused = 125;
constexpr int exit_executor = 126;

struct RunArgs {
    std::optional<std::string> ceiling_file;
    std::vector<std::string> ro, rw, env;
    std::optional<std::string> timeout, network, cwd, executor, output_limit, report, stdin_mode;
    bool json = false, dry_run = false, base64 = false, config_file = false, interactive = false, no_cache = false;
    std::vector<std::string> argv;
};

int refuse(std::string_view message) {
    std::cerr << "cordon run: " << message << "\n";
    return exit_refused;
}

int exit_for(const Error& e) {
    std::cerr << "cordon run: " << to_string(e.code) << ": " << e.to_string() << "\n";
    switch (e.code) {
        case ErrorCode::unavailable:
        case ErrorCode::untrusted_executor:
        case ErrorCode::execution_failed:
        case ErrorCode::io_error:
        case ErrorCode::internal: return exit_executor;
        default: return exit_refused;
    }
}

std::optional<std::string> parse_args(const Args& args, RunArgs& out) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--") {
            for (++i; i < args.size(); ++i) out.argv.emplace_back(args[i]);
            break;
        }
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            return std::string(args[++i]);
        };
        std::optional<std::string>* single = nullptr;
        std::vector<std::string>* multi = nullptr;
        if (a == "--ceiling") single = &out.ceiling_file;
        else if (a == "--timeout") single = &out.timeout;
        else if (a == "--network") single = &out.network;
        else if (a == "--cwd") single = &out.cwd;
        else if (a == "--executor") single = &out.executor;
        else if (a == "--output-limit") single = &out.output_limit;
        else if (a == "--report") single = &out.report;
        else if (a == "--stdin") single = &out.stdin_mode;
        else if (a == "--ro") multi = &out.ro;
        else if (a == "--rw") multi = &out.rw;
        else if (a == "--env") multi = &out.env;
        else if (a == "--json") { out.json = true; continue; }
        else if (a == "--dry-run") { out.dry_run = true; continue; }
        else if (a == "--config-base64") { out.base64 = true; continue; }
        else if (a == "--config-file") { out.config_file = true; continue; }
        else if (a == "--interactive") { out.interactive = true; continue; }
        else if (a == "--no-verify-cache") { out.no_cache = true; continue; }
        else return "unknown option '" + std::string(a) + "' (the command goes after --)";
        auto v = value();
        if (!v) return "option " + std::string(a) + " needs a value";
        if (single) *single = std::move(*v);
        else multi->push_back(std::move(*v));
    }
    if (out.argv.empty()) return "no command: give it after --";
    return std::nullopt;
}

std::optional<std::uint64_t> parse_number(const std::string& s, std::uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > max) return std::nullopt;
    }
    return n;
}

// Text output as a JSON string when it is UTF-8, else as base64 under `<name>_b64`, written to
// `os` in pieces: the output may be output_limit bytes, which are not copied into a JSON value
// and again into its text.
void write_output(std::ostream& os, const char* name, const std::string& bytes) {
    static const char hex[] = "0123456789abcdef";
    char buf[65536];
    if (!detail::valid_utf8(bytes)) {
        os << ",\"" << name << "_b64\":\"";
        for (std::size_t at = 0; at < bytes.size(); at += 49152)  // 3 bytes in, 4 out: whole groups
            os.write(buf, detail::base64_encode_to(buf, std::string_view(bytes).substr(at, 49152)) - buf);
        os << '"';
        return;
    }
    os << ",\"" << name << "\":\"";
    std::size_t n = 0;
    for (char ch : bytes) {
        if (n > sizeof buf - 8) os.write(buf, static_cast<std::streamsize>(n)), n = 0;
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') buf[n++] = '\\', buf[n++] = static_cast<char>(c);
        else if (c == '\n') buf[n++] = '\\', buf[n++] = 'n';
        else if (c == '\t') buf[n++] = '\\', buf[n++] = 't';
        else if (c == '\r') buf[n++] = '\\', buf[n++] = 'r';
        else if (c < 0x20) {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            for (char e : esc) buf[n++] = e;
        } else buf[n++] = static_cast<char>(c);
    }
    os.write(buf, static_cast<std::streamsize>(n));
    os << '"';
}


bool is_terminal(int fd) {
#if defined(_WIN32)
    (void)fd;
    return false;
#else
    return ::isatty(fd) == 1;
#endif
}

bool is_open(int fd) {
#if defined(_WIN32)
    (void)fd;
    return false;
#else
    return ::fcntl(fd, F_GETFD) >= 0;
#endif
}

// stdin, streaming and interactive use from the flags (POSIX; Windows keeps /dev/null and capture).
std::optional<std::string> io_options(const RunArgs& a, RunOptions& o) {
#if defined(_WIN32)
    (void)o;
    if (a.interactive || a.stdin_mode) return "--interactive and --stdin are not available on Windows yet";
    return std::nullopt;
#endif
    if (a.interactive) {
        if (a.json) return "--interactive cannot be combined with --json (the terminal gets the output)";
        if (a.stdin_mode) return "--interactive already decides stdin; drop --stdin";
        o.stdin_mode = StdinMode::interactive;
        o.stdin_fd = is_open(0) ? 0 : -1;
        o.stdout_fd = is_open(1) ? 1 : -1;
        o.keep_streamed_output = false;
        return std::nullopt;
    }
    std::string mode = a.stdin_mode.value_or("auto");
    if (mode != "auto" && mode != "pass" && mode != "null") return "--stdin: expected auto, pass or null";
    // A terminal is not read unless asked: a background job reading it would be stopped (SIGTTIN).
    if (mode == "auto") mode = is_open(0) && !is_terminal(0) ? "pass" : "null";
    if (mode == "pass") {
        if (!is_open(0)) return "--stdin pass: standard input is closed";
        o.stdin_mode = StdinMode::pass;
        o.stdin_fd = 0;
    }
    if (!a.json && !a.dry_run) {  // stream as it comes; --json needs the whole result first
        o.stdout_fd = is_open(1) ? 1 : -1;
        o.stderr_fd = is_open(2) ? 2 : -1;
        o.keep_streamed_output = false;  // printed already: hold only what classifies executor failures
    }
    return std::nullopt;
}

// RunOptions from the flags; a usage problem in words.
std::optional<std::string> run_options_from(const RunArgs& a, int cancel_fd, RunOptions& options) {
    options.dry_run = a.dry_run;
    if (a.base64 && a.config_file) return "--config-base64 and --config-file exclude each other";
    options.delivery = a.base64 ? ConfigDelivery::base64 : a.config_file ? ConfigDelivery::file : ConfigDelivery::descriptor;
    options.cancel_fd = cancel_fd;
    if (auto problem = io_options(a, options)) return problem;
    if (a.output_limit) {
        auto n = parse_number(*a.output_limit, std::uint64_t{1} << 32);
        if (!n) return "--output-limit: expected a number of bytes up to 4294967296";
        options.output_limit = static_cast<std::size_t>(*n);
    }
    return std::nullopt;
}

// The request (what the caller asks for) from the flags; the exit status when it is malformed.
std::optional<int> request_from(const RunArgs& a, Backend backend, Policy& request) {
    auto command = backend == Backend::processcontainer ? windows_command_line(a.argv) : posix_command_line(a.argv);
    if (!command) return exit_for(command.error());
    request.process.command_line = std::move(*command);
    request.process.cwd = a.cwd;
    request.filesystem.readonly = a.ro;
    request.filesystem.readwrite = a.rw;
    for (const auto& kv : a.env) {
        if (kv.find('=') == std::string::npos) return refuse("--env " + kv + ": expected KEY=VALUE");
        request.process.env.push_back(EnvVar::parse(kv));
    }
    if (a.timeout) {
        auto ms = parse_number(*a.timeout, 4294967295u);
        if (!ms) return refuse("--timeout: expected milliseconds from 0 to 4294967295");
        request.process.timeout = Timeout::ms(static_cast<std::uint32_t>(*ms));
    }
    if (a.network) {
        auto n = enum_from_string<NetworkDefault>(*a.network);
        if (!n) return refuse("--network: expected block or allow");
        request.network = NetworkSpec{};
        request.network->default_policy = *n;
    }
    return std::nullopt;
}

int exit_status(const RunResult& r) {
    if (r.timed_out) return exit_timeout;
    if (r.failure == ExecutorFailure::config_rejected) return exit_refused;
    if (r.failure != ExecutorFailure::none) return exit_executor;
    if (r.signal) return 128 + r.signal;
    return r.exit_code;
}

void print_json(const RunResult& r, const std::string& config, const ClampReport& report, int status) {
    boost::json::object o;  // everything but the output, which write_output adds
    o["exit_code"] = r.exit_code;
    o["signal"] = r.signal;
    o["stdout_dropped"] = r.out_dropped;
    o["stderr_dropped"] = r.err_dropped;
    o["duration_ms"] = r.duration_ms;
    o["timed_out"] = r.timed_out;
    o["failure"] = to_string(r.failure);
    o["failure_message"] = r.failure_message;
    boost::json::array invocation;
    for (const auto& arg : r.invocation) invocation.emplace_back(arg);
    o["invocation"] = std::move(invocation);
    o["config"] = boost::json::parse(config);
    o["report"] = boost::json::parse(report.to_json());
    o["cordon_exit"] = status;
    std::string head = boost::json::serialize(o);
    head.pop_back();  // the closing brace: the output follows
    std::cout << head;
    write_output(std::cout, "stdout", r.out);
    write_output(std::cout, "stderr", r.err);
    std::cout << "}\n";
}

// What follows the command's own (streamed) output: what was kept when nothing streamed, and why
// the run ended when that was not the command's doing.
void print_outcome(const RunOptions& options, const RunResult& r) {
    if (options.stdout_fd < 0 && options.stderr_fd < 0) {  // not streamed (Windows): print what was kept
        std::fwrite(r.out.data(), 1, r.out.size(), stdout);
        std::fflush(stdout);
        std::fwrite(r.err.data(), 1, r.err.size(), stderr);
    }
    const bool interactive = options.stdin_mode == StdinMode::interactive;  // uncapped: nothing was dropped
    if (!interactive && (r.out_dropped || r.err_dropped))
        std::cerr << "cordon run: output truncated: " << r.out_dropped << " stdout and " << r.err_dropped
                  << " stderr bytes dropped\n";
    if (r.timed_out) std::cerr << "cordon run: timed out; the whole process tree was killed\n";
    else if (r.failure != ExecutorFailure::none)
        std::cerr << "cordon run: executor " << to_string(r.failure) << ": " << r.failure_message << "\n";
}

}  // namespace

int run_run(const Args& args) {
    for (auto a : args) {
        if (a == "--") break;
        if (is_help(a)) {
            std::cout << run_help;
            return 0;
        }
    }
    RunArgs a;
    if (auto problem = parse_args(args, a)) return refuse(*problem + "\nTry 'cordon run --help'.");

    // From here on SIGTERM, SIGINT and SIGHUP cancel the run instead of ending cordon mid-way.
    CancelOnSignals signals;
    RunOptions options;
    if (auto problem = run_options_from(a, signals.fd(), options)) return refuse(*problem);

    auto ceiling = load_operator_ceiling({a.ceiling_file, std::nullopt, true}, CeilingOptions{});
    if (!ceiling) return exit_for(ceiling.error());
    RunnerOptions runner_options;
    runner_options.registry = &static_backends();
    if (a.executor) runner_options.executor.explicit_path = *a.executor;
    runner_options.verification_cache.enabled = !a.no_cache;
    auto runner = make_runner(runner_options);
    if (!runner) return exit_for(runner.error());

    Policy request;
    if (auto failed = request_from(a, runner->backend(), request)) return *failed;
    ClampOptions clamp_options;
    clamp_options.anchors = runner->trust_anchors();
    auto clamped = clamp(request, *ceiling, runner->capabilities(), clamp_options);
    if (!clamped) return exit_for(clamped.error());
    if (a.report)
        if (Status s = detail::write_file_replacing(*a.report, clamped->report.to_json() + "\n"); !s)
            return exit_for(s.error());

    // Shown only with --json and --dry-run; run() emits (and checks) the same text itself.
    Result<std::string> config = std::string();
    if (a.json || a.dry_run) config = runner->config_for(clamped->policy);
    if (!config) return exit_for(config.error());
    auto result = runner->run(clamped->policy, options);
    if (int sig = signals.received()) {
        // The runner has killed the whole tree and cleaned up (the config was a descriptor, or its
        // private file is gone); nothing of the run is left.
        std::cerr << "cordon run: stopped by signal " << sig << "; the command's whole process tree was killed\n";
        return 128 + sig;
    }
    if (!result) return exit_for(result.error());

    const int status = exit_status(*result);
    if (a.json) {
        print_json(*result, *config, clamped->report, status);
        return status;
    }
    if (a.dry_run) {
        std::cout << "config: " << *config << "\ninvocation:";
        for (const auto& arg : result->invocation) std::cout << " " << arg;
        std::cout << "\n";
        return 0;
    }
    print_outcome(options, *result);
    return status;
}

}  // namespace cordon::cli
