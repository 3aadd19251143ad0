// SPDX-License-Identifier: MIT
// cordon mcp: run_command, read_file, write_file and describe_sandbox over clamp and Runner::run.
#include "sandbox_tools.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cordon/canonical.hpp"
#include "cordon/detail/base64.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/posix_command_line.hpp"
#include "json_rpc.hpp"

namespace cordon::mcp {
namespace {

// After an executor failure the command may still have run (lxc-exec exits 255 when the network
// set-up fails while the workload runs on): say so, so that a client does not retry blindly.
std::string may_have_run(const RunResult& r) {
    return r.started == CommandStarted::no ? "" : " (the executor failed after the sandbox was set up: the command may have run)";
}

// write_file content travels in environment variables of this many base64 characters each:
// one variable is one exec string, and Linux limits a single one to 128 KiB.
constexpr std::size_t data_chunk = 65536;

ToolError error_of(const Error& e, std::string field) {
    return ToolError{std::string(to_string(e.code)), e.message, std::move(field)};
}

// "/prefix/N" -> N
std::optional<std::size_t> index_after(const std::string& field, std::string_view prefix) {
    if (field.size() <= prefix.size() + 1 || field.compare(0, prefix.size(), prefix) != 0 ||
        field[prefix.size()] != '/')
        return std::nullopt;
    std::size_t n = 0;
    for (std::size_t i = prefix.size() + 1; i < field.size(); ++i) {
        if (field[i] < '0' || field[i] > '9' || n > 1000000) return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(field[i] - '0');
    }
    return n;
}

// What the sandbox printed on stderr, as one bounded line for an error message.
std::string stderr_text(const std::string& err) {
    std::string s = utf8_lossy(err.substr(0, 2000));
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

// How a contained file operation ended when it did not succeed; nothing when it did (exit 0).
std::optional<CallStatus> file_run_status(const Result<RunResult>& ran, std::optional<ToolError>& error) {
    if (!ran) {
        const ErrorCode code = ran.error().code;
        error = ToolError{std::string(to_string(code)), ran.error().message, "/path"};
        return code == ErrorCode::invalid_policy || code == ErrorCode::backend_unsupported ? CallStatus::refused
                                                                                           : CallStatus::failed;
    }
    if (ran->cancelled) return CallStatus::cancelled;
    if (ran->timed_out) {
        error = ToolError{"timeout", "the contained process did not finish in time and was killed", ""};
        return CallStatus::timed_out;
    }
    if (ran->failure != ExecutorFailure::none) {
        error = ToolError{"execution-failed",
                          "the sandbox could not run (" + std::string(to_string(ran->failure)) +
                              "): " + stderr_text(ran->failure_message) + may_have_run(*ran),
                          ""};
        return CallStatus::failed;
    }
    if (ran->exit_code != 0 || ran->signal != 0) {
        error = ToolError{"io-error",
                          stderr_text(ran->err.empty() ? "exit status " + std::to_string(ran->exit_code) : ran->err),
                          "/path"};
        return CallStatus::failed;
    }
    return std::nullopt;
}

bool covered_by(const Path& target, const std::vector<std::string>& grants) {
    for (const auto& g : grants)
        if (auto root = Path::parse(g, PathStyle::posix); root && within(target, *root)) return true;
    return false;
}

}  // namespace

Result<std::string> script_command_line(const std::string& script, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"sh", "-c", script, "sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    return posix_command_line(argv);
}

Result<Policy> request_for(const RunCommandArgs& args) {
    Policy p;
    if (args.command) {
        if (args.command->find('\0') != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "the command contains a NUL byte", "/command");
        p.process.command_line = *args.command;
    } else {
        auto line = posix_command_line(args.argv);
        if (!line) {  // where is "argv[i]"
            std::string where = line.error().where;
            auto open = where.find('['), close = where.find(']');
            std::string field = "/argv";
            if (open != std::string::npos && close != std::string::npos && close > open)
                field += "/" + where.substr(open + 1, close - open - 1);
            return make_error(line.error().code, line.error().message, field);
        }
        p.process.command_line = std::move(*line);
    }
    p.process.cwd = args.cwd;
    for (const auto& [name, value] : args.env) {
        if (value.find('\0') != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "the value contains a NUL byte",
                              detail::pointer_child("/env", name));
        p.process.env.push_back(EnvVar{name, value});
    }
    if (args.timeout_ms) p.process.timeout = Timeout::ms(*args.timeout_ms);
    if (args.network) {
        p.network = NetworkSpec{};
        p.network->egress.default_action =
            *args.network == NetworkChoice::allow ? EgressDefault::allow : EgressDefault::deny;
    }
    p.filesystem.readonly = args.readonly_paths;
    p.filesystem.readwrite = args.readwrite_paths;
    return p;
}

std::string argument_for(const std::string& field, const RunCommandArgs& args) {
    if (field == "/process/commandLine") return args.command ? "/command" : "/argv";
    if (field == "/process/cwd") return "/cwd";
    if (field == "/process/timeout") return "/timeout_ms";
    if (field.rfind("/network", 0) == 0) return "/network";
    if (auto i = index_after(field, "/process/env"); i && *i < args.env.size())
        return detail::pointer_child("/env", args.env[*i].first);
    if (auto i = index_after(field, "/filesystem/readwritePaths")) return "/readwrite_paths/" + std::to_string(*i);
    if (auto i = index_after(field, "/filesystem/readonlyPaths")) return "/readonly_paths/" + std::to_string(*i);
    return "";  // an item the request did not name (containment, the ceiling's own fields)
}

std::vector<Decision> decisions_for(const ClampReport& report, const RunCommandArgs& args) {
    std::vector<Decision> out;
    for (const ClampDecision& d : report.decisions)
        out.push_back(Decision{argument_for(d.field, args), d.field, d.requested, d.verdict, d.result, d.reason});
    return out;
}

std::string argument_for_clamped(const std::string& where, const Policy& clamped,
                                 const std::vector<Decision>& decisions) {
    if (where == "/process/cwd") return "/cwd";
    const std::vector<std::string>* list = nullptr;
    std::string field;
    std::optional<std::size_t> i;
    if ((i = index_after(where, "/filesystem/readwritePaths")))
        list = &clamped.filesystem.readwrite, field = "/filesystem/readwritePaths";
    else if ((i = index_after(where, "/filesystem/readonlyPaths")))
        list = &clamped.filesystem.readonly, field = "/filesystem/readonlyPaths";
    if (!list || *i >= list->size()) return "";
    for (const Decision& d : decisions)
        for (const auto& r : d.result)
            if (r.field == field && r.value == (*list)[*i]) return d.argument;
    return "";
}

SandboxTools::SandboxTools(Runner runner, Ceiling ceiling, SandboxToolsOptions options)
    : runner_(std::move(runner)), ceiling_(std::move(ceiling)), options_(std::move(options)) {
    options_.limits.max_write_bytes = std::min(options_.limits.max_write_bytes, max_write_bytes_limit);
    clamp_options_.anchors = runner_.trust_anchors();  // as cordon run: never granted writable
}

Result<RunResult> SandboxTools::run_in_sandbox(const Policy& policy, std::size_t output_limit, CancelToken& cancel,
                                               ProgressSink& progress) const {
    RunOptions o;
    o.output_limit = output_limit;
    o.grace_ms = options_.grace_ms;
    o.cancel_fd = cancel.fd();
    o.delivery = options_.delivery;
    const std::uint32_t total = policy.process.timeout.wire_value();
    progress.report(0, total ? std::optional<double>(total) : std::nullopt, "starting the sandbox");
    Heartbeat heartbeat(progress, options_.progress_interval, total);
    return runner_.run(policy, o);
}

RunCommandResult SandboxTools::run_command(const RunCommandArgs& args, CancelToken& cancel, ProgressSink& progress) {
    RunCommandResult r;
    r.status = CallStatus::refused;
    auto request = request_for(args);
    if (!request) {
        r.error = error_of(request.error(), request.error().where);
        return r;
    }
    auto clamped = clamp(*request, ceiling_, runner_.capabilities(), clamp_options_);
    if (!clamped) {
        r.error = error_of(clamped.error(), argument_for(clamped.error().where, args));
        return r;
    }
    r.clamped = true;
    r.clamp = decisions_for(clamped->report, args);
    r.command_line = clamped->policy.process.command_line;
    if (cancel.cancelled()) {
        r.status = CallStatus::cancelled;
        return r;
    }
    auto ran = run_in_sandbox(clamped->policy, options_.limits.output_limit, cancel, progress);
    if (!ran) {
        const ErrorCode code = ran.error().code;
        // prepare() refuses a policy the backend cannot run as asked; anything else is a failure to run.
        r.status = code == ErrorCode::invalid_policy || code == ErrorCode::backend_unsupported ? CallStatus::refused
                                                                                               : CallStatus::failed;
        r.error = error_of(ran.error(), argument_for_clamped(ran.error().where, clamped->policy, r.clamp));
        return r;
    }
    r.exit_code = ran->exit_code;
    r.signal = ran->signal;
    r.out = std::move(ran->out);
    r.err = std::move(ran->err);
    r.out_dropped = ran->out_dropped;
    r.err_dropped = ran->err_dropped;
    r.duration_ms = ran->duration_ms;
    r.failure = std::string(to_string(ran->failure));
    r.failure_message = ran->failure_message;
    if (ran->cancelled)
        r.status = CallStatus::cancelled;
    else if (ran->timed_out)
        r.status = CallStatus::timed_out;
    else if (ran->failure != ExecutorFailure::none) {
        r.status = CallStatus::failed;
        r.error = ToolError{
            "execution-failed",
            "the sandbox could not run the command (" + r.failure + "): " + stderr_text(ran->failure_message) +
                may_have_run(*ran),
            ""};
    } else {
        r.status = CallStatus::completed;
    }
    return r;
}

std::optional<ToolError> SandboxTools::grant_for_file(const std::string& path, bool write, Policy& policy) const {
    Policy request;
    (write ? request.filesystem.readwrite : request.filesystem.readonly).push_back(path);
    request.process.command_line = "true";  // replaced once the target is known
    request.process.timeout = Timeout::ms(options_.limits.file_timeout_ms);
    auto clamped = clamp(request, ceiling_, runner_.capabilities(), clamp_options_);
    if (!clamped) return error_of(clamped.error(), "/path");
    const ClampDecision* d =
        clamped->report.find(write ? "/filesystem/readwritePaths/0" : "/filesystem/readonlyPaths/0");
    const std::string what = write ? "writing in " : "reading ";
    if (!d || d->verdict == Verdict::dropped)
        return ToolError{
            "outside-ceiling",
            "the ceiling does not allow " + what + path + (d && !d->reason.empty() ? ": " + d->reason : ""), "/path"};
    if (write && d->verdict == Verdict::downgraded)
        return ToolError{"outside-ceiling", "the ceiling allows " + path + " read-only: " + d->reason, "/path"};
    policy = std::move(clamped->policy);
    return std::nullopt;
}

ReadFileResult SandboxTools::read_file(const ReadFileArgs& args, CancelToken& cancel, ProgressSink& progress) {
    ReadFileResult r;
    r.status = CallStatus::refused;
    if (auto parsed = Path::parse(args.path, PathStyle::posix); !parsed) {
        r.error = ToolError{"invalid-arguments", parsed.error().message, "/path"};
        return r;
    }
    Policy policy;
    if (auto refused = grant_for_file(args.path, false, policy)) {
        r.error = std::move(refused);
        return r;
    }
    // The file as the clamp saw it; the sandbox reads exactly this path, and only it is bound.
    auto resolved = canonical(args.path);
    if (!resolved || resolved->state != Resolution::canonical || resolved->kind == EntryKind::directory) {
        r.error = ToolError{"io-error",
                            args.path + (!resolved ? ": " + resolved.error().message
                                         : resolved->state != Resolution::canonical
                                             ? ": does not exist or cannot be resolved" +
                                                   (resolved->reason.empty() ? "" : " (" + resolved->reason + ")")
                                             : ": is a directory"),
                            "/path"};
        return r;
    }
    const Path& target = resolved->path;
    std::vector<std::string> grants = policy.filesystem.readonly;
    grants.insert(grants.end(), policy.filesystem.readwrite.begin(), policy.filesystem.readwrite.end());
    if (!covered_by(target, grants)) {
        r.error = ToolError{"outside-ceiling", "the grant the ceiling allows does not cover " + target.str(), "/path"};
        return r;
    }
    r.path = target.str();
    const std::size_t limit = options_.limits.max_read_bytes;
    const std::size_t max = std::min(args.max_bytes.value_or(limit), limit);
    auto line = script_command_line(
        "[ -f \"$1\" ] || { echo \"$1: not a regular file\" >&2; exit 3; }; exec head -c \"$2\" -- \"$1\"",
        {target.str(), std::to_string(max + 1)});
    if (!line) {
        r.error = error_of(line.error(), "/path");
        return r;
    }
    policy.process.command_line = std::move(*line);
    if (cancel.cancelled()) {
        r.status = CallStatus::cancelled;
        return r;
    }
    auto ran = run_in_sandbox(policy, max + 1, cancel, progress);
    if (auto status = file_run_status(ran, r.error)) {
        r.status = *status;
        return r;
    }
    r.content = std::move(ran->out);
    r.truncated = r.content.size() > max || ran->out_dropped > 0;
    if (r.content.size() > max) r.content.resize(max);
    r.status = CallStatus::completed;
    return r;
}

WriteFileResult SandboxTools::write_file(const WriteFileArgs& args, CancelToken& cancel, ProgressSink& progress) {
    WriteFileResult r;
    r.status = CallStatus::refused;
    auto parsed = Path::parse(args.path, PathStyle::posix);
    if (!parsed || parsed->is_root()) {
        r.error = ToolError{"invalid-arguments", parsed ? "the path names no file" : parsed.error().message, "/path"};
        return r;
    }
    const std::string name(parsed->filename());
    const Path dir = parsed->parent();
    Policy policy;
    if (auto refused = grant_for_file(dir.str(), true, policy)) {
        r.error = std::move(refused);
        return r;
    }
    auto resolved = canonical(dir.str());
    if (!resolved || resolved->state != Resolution::canonical || resolved->kind != EntryKind::directory) {
        r.error = ToolError{"io-error", "the directory " + dir.str() + " does not exist", "/path"};
        return r;
    }
    auto target = resolved->path.join(name);
    if (!target || !covered_by(*target, policy.filesystem.readwrite)) {
        r.error = ToolError{"outside-ceiling", "the grant the ceiling allows does not cover " + args.path, "/path"};
        return r;
    }
    r.path = target->str();
    // The content reaches the contained shell as environment variables (never as a file cordon
    // writes itself); the last component is checked in there, where a planted link cannot escape.
    const std::string encoded = detail::base64_encode(args.content);
    std::string parts;
    for (std::size_t i = 0, n = 0; i < encoded.size(); i += data_chunk, ++n) {
        char var[32];
        std::snprintf(var, sizeof var, "CORDON_MCP_DATA_%04zu", n);
        policy.process.env.push_back(EnvVar{var, encoded.substr(i, data_chunk)});
        parts += std::string(" \"$") + var + "\"";
    }
    const std::string write = parts.empty() ? ": > \"$1\"" : "printf '%s'" + parts + " | base64 -d > \"$1\"";
    auto line = script_command_line(
        "if [ -L \"$1\" ]; then echo \"$1: is a symbolic link; refusing to write through it\" >&2; exit 3; fi; "
        "if [ -d \"$1\" ]; then echo \"$1: is a directory\" >&2; exit 3; fi; " +
            write + " || exit 4; wc -c < \"$1\"",
        {target->str()});
    if (!line) {
        r.error = error_of(line.error(), "/path");
        return r;
    }
    policy.process.command_line = std::move(*line);
    if (cancel.cancelled()) {
        r.status = CallStatus::cancelled;
        return r;
    }
    auto ran = run_in_sandbox(policy, 4096, cancel, progress);
    if (auto status = file_run_status(ran, r.error)) {
        r.status = *status;
        return r;
    }
    // The size the contained process saw after writing: the proof the bytes arrived.
    r.bytes_written = static_cast<std::size_t>(std::strtoull(ran->out.c_str(), nullptr, 10));
    if (r.bytes_written != args.content.size()) {
        r.status = CallStatus::failed;
        r.error = ToolError{
            "io-error",
            "wrote " + std::to_string(args.content.size()) + " bytes but the file holds " + stderr_text(ran->out),
            "/path"};
        return r;
    }
    r.status = CallStatus::completed;
    return r;
}

SandboxDescription SandboxTools::describe_sandbox() {
    SandboxDescription d;
    d.backend = std::string(to_string(runner_.backend()));
    d.executor_path = runner_.executor().path().string();
    d.executor_sha256 = std::string(runner_.executor().sha256());
    d.executor_sdk = std::string(runner_.executor().sdk_version());
    d.capabilities = runner_.capabilities();
    for (const Path& p : ceiling_.readonly) d.readonly_roots.push_back(p.str());
    for (const Path& p : ceiling_.readwrite) d.readwrite_roots.push_back(p.str());
    for (const Path& p : ceiling_.denied) d.denied_roots.push_back(p.str());
    d.timeout_ms = ceiling_.timeout.wire_value();
    d.network = ceiling_.allows_network() ? "allow" : "block";
    d.allowed_hosts = ceiling_.allowed_hosts;
    d.env_allow = ceiling_.env_allow;
    if (ceiling_.source_file) d.ceiling_file = ceiling_.source_file->str();
    d.limits = options_.limits;
    return d;
}

}  // namespace cordon::mcp
