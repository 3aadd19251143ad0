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
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/base64.hpp"
#include "cordon/detail/output_file.hpp"
#include "cordon/detail/run_result_json.hpp"
#include "cordon/detail/utf8.hpp"
#include "cordon/names.hpp"
#include "cordon/runner.hpp"
#include "options.hpp"
#include "output_collector.hpp"
#include "run_proxy.hpp"
#include "run_request.hpp"
#include "run_signals.hpp"
#include "static_backends.hpp"

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace cordon::cli {

namespace {

const CommandDoc run_doc{
    "run",
    "run a command in the sandbox, bounded by the operator's ceiling",
    "[OPTIONS] -- ARGV...",
    "Runs ARGV inside the host's MXC sandbox (bubblewrap on Linux, Seatbelt on macOS,\n"
    "ProcessContainer on Windows). The options form the request; the operator's ceiling\n"
    "bounds it, and the request can only narrow the ceiling. Without a ceiling nothing runs.\n"
    "\n"
    "Output streams as it arrives (stdout and stderr apart, each capped), except with --json.\n"
    "SIGTERM, SIGINT and SIGHUP kill the command's whole tree; cordon then exits 128+signal.",
    "the command's own, 124 on timeout, 125 when the policy is refused or\n"
    "invalid (or a usage error), 126 when the executor is unavailable, untrusted or failed\n"
    "before the command started, 123 when the executor failed after the sandbox was set up\n"
    "(the command may have run: do not retry it blindly), 128+N after signal N.",
    "mkdir -p project && echo 'one two three' > project/notes.txt && cd project\n"
    "if [ \"$(id -u)\" = 0 ]; then chown nobody .; fi  # as root it runs as nobody: let it write here\n"
    "CORDON_READWRITE_PATHS=$PWD cordon run --rw . -- sh -c 'wc -w < notes.txt > count.txt'\n"
    "cat count.txt",
};

constexpr int exit_timeout = 124;
constexpr int exit_refused = 125;
constexpr int exit_executor = 126;
constexpr int exit_may_have_run = 123;  // the executor failed; the command may have run

void define_run_options(CLI::App& app, RunArgs& a) {
    opt::group(app, "Ceiling (one is required)");
    opt::single(app, "--ceiling", a.ceiling_file, "FILE",
                "ceiling file (docs/ceiling.md)\n"
                "default: " + ceiling_env_names() + " when any is set. The ceiling also names the sandbox's user "
                "(runAs, CORDON_RUN_AS; as root the default is nobody: never host root inside).");
    opt::group(app, "Request");
    opt::repeated(app, "--ro", a.ro, "PATH", "read-only grant (repeatable)");
    opt::repeated(app, "--rw", a.rw, "PATH", "read-write grant (repeatable)");
    opt::number(app, "--timeout", a.timeout, 0, Timeout::max_ms, "MS",
                "timeout in milliseconds (0 = none; the ceiling's limit still applies)");
    opt::choice(app, "--network", a.network, {"block", "allow"},
                "network default (the ceiling decides whether allow is possible)");
    opt::repeated(app, "--egress", a.egress, "CIDR[:PORT[-ENDPORT]][/tcp|/udp]",
                  "an egress grant, e.g. 10.1.0.0/16:443/tcp (repeatable); the ceiling's network.egress rules "
                  "bound it (docs/egress-rules.md)");
    opt::repeated(app, "--domain", a.domains, "PATTERN[:PORT]",
                  "a domain the command may reach through cordon's filtering proxy, e.g. pypi.org or "
                  "*.github.com:443 (repeatable); the ceiling's network.allowedDomains bound it (docs/network-proxy.md)");
    opt::repeated(app, "--env", a.env, "KEY=VALUE",
                  "environment variable for the command (repeatable; ceiling allow-list)");
    opt::single(app, "--cwd", a.cwd, "DIR", "working directory (must lie inside a granted path)");
    opt::group(app, "Running");
    opt::single(app, "--executor", a.executor, "PATH", "MXC executor to verify and use (default: MXC_BIN_DIR, cordon's cache, npm prefix)");
    opt::flag(app, "--no-verify-cache", a.no_verify_cache,
              "hash the executor even if this unchanged file was verified before (also CORDON_VERIFY_CACHE=off; "
              "docs/executor-trust.md)");
    opt::choice(app, "--stdin", a.stdin_mode, {"auto", "pass", "null"},
                "the command's stdin: pass = a copy of ours, null = /dev/null; auto (default): pass unless our "
                "stdin is a terminal (then null)");
    opt::flag(app, "--interactive", a.interactive,
              "a terminal of the run's own for stdin, stdout and stderr, wired to ours (docs/cli.md, \"Interactive "
              "use\"); output is then not capped and stdout/stderr are one stream; not with --json");
    opt::flag(app, "--config-base64", a.base64, "pass the config in argv instead of a sealed descriptor");
    opt::flag(app, "--config-file", a.config_file, "pass the config as a private 0600 file (refused inside a grant)");
    opt::number(app, "--output-limit", a.output_limit, 0, std::uint64_t{1} << 32, "BYTES",
                "bytes kept per output stream (default 1048576)");
    opt::flag(app, "--dry-run", a.dry_run, "print the MXC config and the executor invocation; run nothing");
    opt::single(app, "--report", a.report, "FILE", "write the clamp report (JSON) to FILE");
    opt::group(app, "Narrowing");
    opt::flag(app, "--quiet", a.quiet,
              "print no line for a requested item the ceiling narrowed, downgraded or dropped");
    opt::flag(app, "--strict", a.strict,
              "refuse (125) instead of running when the ceiling would narrow, downgrade or drop a requested item");
}

// The exit status of an error: 126 when the executor could not be had or run, else 125.
int status_for(const Error& e) {
    switch (e.code) {
        case ErrorCode::unavailable:
        case ErrorCode::untrusted_executor:
        case ErrorCode::execution_failed:
        case ErrorCode::io_error:
        case ErrorCode::internal: return exit_executor;
        default: return exit_refused;
    }
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
        return std::nullopt;
    }
    std::string mode = a.stdin_mode.value_or("auto");
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
        o.keep_streamed_output = false;  // printed already: stdout's head is all a result needs
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
    if (a.output_limit) options.output_limit = static_cast<std::size_t>(*a.output_limit);
    return std::nullopt;
}

int exit_status(const RunResult& r) {
    if (r.timed_out) return exit_timeout;
    if (r.failure == ExecutorFailure::config_rejected) return exit_refused;
    if (r.failure != ExecutorFailure::none)
        return r.started == CommandStarted::no ? exit_executor : exit_may_have_run;
    if (r.signal) return 128 + r.signal;
    return r.exit_code;
}

// The proxy's part of a run's result: its URL and every decision (docs/network-proxy.md).
struct ProxyOutcome {
    std::string url;
    std::vector<ProxyDecision> decisions;
    std::string problem;  ///< why the decisions are missing, when they are
};

boost::json::object proxy_json(const ProxyOutcome& p) {
    boost::json::object o{{"url", p.url}, {"decisions", decisions_json(p.decisions)}};
    if (!p.problem.empty()) o["problem"] = p.problem;
    return o;
}

int print_json(Output& out, const RunResult& r, const std::string& stdout_bytes, const std::string& stderr_bytes,
               const ClampReport& report, const std::optional<ProxyOutcome>& proxy, int status) {
    boost::json::object o;
    detail::put_run_result(o, r);
    o["config"] = boost::json::parse(r.config);
    o["report"] = boost::json::parse(report.to_json());
    if (proxy) o["proxy"] = proxy_json(*proxy);
    return out.result(std::move(o), status, [&](std::ostream& os) {
        write_output(os, "stdout", stdout_bytes);
        write_output(os, "stderr", stderr_bytes);
    });
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
        std::cerr << "cordon run: executor " << to_string(r.failure) << ": " << r.failure_message
                  << (r.started == CommandStarted::no
                          ? "; the command did not start\n"
                          : "; the executor failed, and the command may have run (its effects may exist): do not "
                            "retry it blindly\n");
}

// One line per requested item the ceiling narrowed (unless --quiet); with --strict, any such item
// refuses the run (the lines say why). Returns the exit status of a refusal, else 0.
int report_narrowing(Output& out, const RunArgs& a, const ClampReport& report, const std::vector<AskedItem>& asked) {
    const auto notes = narrowing_notes(report, asked);
    if (a.strict && !notes.empty()) {
        for (const auto& n : notes) out.notice(n);
        return out.fail(make_error(ErrorCode::invalid_policy,
                                   "refused (--strict): the ceiling would narrow " + std::to_string(notes.size()) +
                                       " requested item" + (notes.size() == 1 ? "" : "s") + "; nothing ran"),
                        exit_refused);
    }
    if (!a.quiet)
        for (const auto& n : notes) out.notice(n);
    return 0;
}

int fail(Output& out, const Error& e) { return out.fail(e, status_for(e)); }

// Stops the run's proxy and reports its decisions: one line each (unless --quiet) and, with
// --report, in the report file beside the clamp's decisions.
ProxyOutcome finish_proxy(Output& out, const RunArgs& a, RunProxy& proxy, const ClampReport& report) {
    ProxyOutcome p{proxy.url(), {}, {}};
    auto decisions = proxy.stop();
    if (decisions) p.decisions = std::move(*decisions);
    else p.problem = "the proxy's decisions are lost: " + decisions.error().to_string();
    if (!p.problem.empty()) out.notice(p.problem);
    if (!a.quiet && !a.json)
        for (const ProxyDecision& d : p.decisions) out.notice(decision_line(d));
    if (a.report) {
        boost::json::object o = boost::json::parse(report.to_json()).as_object();
        o["proxy"] = proxy_json(p);
        if (Status s = detail::write_file_replacing(*a.report, boost::json::serialize(o) + "\n"); !s)
            out.notice("cannot add the proxy's decisions to " + *a.report + ": " + s.error().to_string());
    }
    return p;
}

// --report before the run: the clamp's decisions, so that a report that cannot be written stops
// the run before anything starts. A proxied run's report gains the proxy's decisions afterwards
// (finish_proxy); a target written in place (a descriptor, a terminal) is then only checked here,
// so that it gets the report once, whole.
enum class EarlyReport { none, written, deferred };
Result<EarlyReport> write_early_report(const RunArgs& a, const Policy& policy, const ClampReport& report) {
    if (!a.report) return EarlyReport::none;
    if (!policy.allowed_domains.empty() && !a.dry_run) {
        auto target = detail::check_output_target(*a.report);
        if (!target) return target.error();
        if (*target == detail::OutputTarget::in_place) return EarlyReport::deferred;
    }
    if (Status s = detail::write_file_replacing(*a.report, report.to_json() + "\n"); !s) return s.error();
    return EarlyReport::written;
}

// With granted domains every refusal comes first (the policy checked with a placeholder proxy
// URL), then cordon-proxy starts and the policy gets its URL; a dry run starts none (its config
// keeps the placeholder).
Status route_domains(Output& out, const RunArgs& a, const Runner& runner, const Ceiling& ceiling, Policy& policy,
                     std::optional<RunProxy>& proxy) {
    if (policy.allowed_domains.empty()) return {};
    route_through_proxy(policy, dry_run_proxy_url);
    if (auto config = runner.config_for(policy); !config) return config.error();
    if (a.dry_run) {
        out.notice("dry run: no proxy is started; port 1 in networkProxy stands for its port");
        return {};
    }
    auto started = start_proxy(policy, ceiling);
    if (!started) return started.error();
    proxy = std::move(*started);
    route_through_proxy(policy, proxy->url());
    return {};
}

// --json holds the whole result before printing it: stdout and stderr then stream into this
// process (output_collector.hpp), so that each is held once. Empty: not --json, a dry run, Windows.
struct CollectedOutput {
    std::optional<OutputCollector> out, err;
};
Status collect_output(const RunArgs& a, RunOptions& o, CollectedOutput& c) {
#if defined(_WIN32)
    (void)a;
    (void)o;
    (void)c;
#else
    if (!a.json || a.dry_run) return {};
    auto out = OutputCollector::start(o.output_limit, "stdout");
    if (!out) return out.error();
    auto err = OutputCollector::start(o.output_limit, "stderr");
    if (!err) return err.error();
    c.out.emplace(std::move(*out));
    c.err.emplace(std::move(*err));
    o.stdout_fd = c.out->sink();
    o.stderr_fd = c.err->sink();
    o.keep_streamed_output = false;
#endif
    return {};
}

// A stream as --json prints it: collected, or (Windows, a dry run) as the result kept it.
Result<std::string> collected(std::optional<OutputCollector>& collector, std::string& kept) {
    if (!collector) return std::move(kept);
    return collector->finish();
}

class Run final : public Command {
public:
    const CommandDoc& doc() const override { return run_doc; }
    void define(CLI::App& app) override { define_run_options(app, a_); }
    int run(Output& out) override;
    int usage_status() const override { return exit_refused; }
    bool takes_argv() const override { return true; }

private:
    RunArgs a_;
};

int Run::run(Output& out) {
    RunArgs& a = a_;
    a.argv = argv;
    a.json = out.json();
    if (a.argv.empty()) return out.usage("no command: give it after --", exit_refused);

    // From here on SIGTERM, SIGINT and SIGHUP cancel the run instead of ending cordon mid-way.
    CancelOnSignals signals;
    RunOptions options;
    if (auto problem = run_options_from(a, signals.fd(), options)) return out.usage(*problem, exit_refused);
    CollectedOutput collected_output;
    if (Status s = collect_output(a, options, collected_output); !s) return fail(out, s.error());

    auto ceiling = load_operator_ceiling({a.ceiling_file, std::nullopt, true}, CeilingOptions{});
    if (!ceiling) return fail(out, ceiling.error());
    RunnerOptions runner_options;
    runner_options.registry = &static_backends();
    if (a.executor) runner_options.executor.explicit_path = *a.executor;
    runner_options.verification_cache.enabled = !a.no_verify_cache;
    auto runner = make_runner(runner_options);
    if (!runner) return fail(out, runner.error());

    auto request = request_from(a, runner->backend());
    if (!request) return fail(out, request.error());
    ClampOptions clamp_options;
    clamp_options.anchors = runner->trust_anchors();
    auto clamped = clamp_request(*request, *ceiling, runner->capabilities(), clamp_options);
    if (!clamped) return fail(out, clamped.error());
    auto early = write_early_report(a, clamped->policy, clamped->report);
    if (!early) return fail(out, early.error());
    if (int refused = report_narrowing(out, a, clamped->report, request->asked)) return refused;

    Policy& policy = clamped->policy;
    std::optional<RunProxy> proxy;
    if (Status routed = route_domains(out, a, *runner, *ceiling, policy, proxy); !routed) {
        if (*early == EarlyReport::deferred)  // the run ends here: its report is the clamp's
            (void)detail::write_file_replacing(*a.report, clamped->report.to_json() + "\n");
        return fail(out, routed.error());
    }
    auto result = runner->run(policy, options);
    std::optional<ProxyOutcome> proxied;
    if (proxy) proxied = finish_proxy(out, a, *proxy, clamped->report);
    if (int sig = signals.received()) {
        // The runner has killed the whole tree and cleaned up (the config was a descriptor, or its
        // private file is gone); nothing of the run is left.
        return out.fail(make_error(ErrorCode::execution_failed, "stopped by signal " + std::to_string(sig) +
                                                                    "; the command's whole process tree was killed"),
                        128 + sig);
    }
    if (!result) return fail(out, result.error());

    const int status = exit_status(*result);
    if (a.json) {
        auto stdout_bytes = collected(collected_output.out, result->out);
        if (!stdout_bytes) return fail(out, stdout_bytes.error());
        auto stderr_bytes = collected(collected_output.err, result->err);
        if (!stderr_bytes) return fail(out, stderr_bytes.error());
        return print_json(out, *result, *stdout_bytes, *stderr_bytes, clamped->report, proxied, status);
    }
    if (a.dry_run) {
        std::cout << "config: " << result->config << "\ninvocation:";
        for (const auto& arg : result->invocation) std::cout << " " << arg;
        std::cout << "\n";
        return 0;
    }
    print_outcome(options, *result);
    return status;
}

}  // namespace

std::unique_ptr<Command> make_run() { return std::make_unique<Run>(); }

}  // namespace cordon::cli
