// SPDX-License-Identifier: MIT
// cordon mcp: the tools' arguments and results in JSON, one function per direction and tool.
#include "tool_json.hpp"

#include "cordon/detail/base64.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/utf8.hpp"
#include "json_rpc.hpp"

namespace cordon::mcp {
namespace {

std::vector<std::string> strings(const boost::json::object& o, const char* key) {
    std::vector<std::string> out;
    if (const auto* a = o.if_contains(key))
        for (const auto& s : a->as_array()) out.emplace_back(s.as_string());
    return out;
}

std::optional<std::string> string_of(const boost::json::object& o, const char* key) {
    if (const auto* v = o.if_contains(key)) return std::string(v->as_string());
    return std::nullopt;
}

boost::json::array json_strings(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(utf8_lossy(s));
    return a;
}

boost::json::object error_json(const ToolError& e) {
    boost::json::object o{{"code", e.code}, {"message", utf8_lossy(e.message)}};
    if (!e.field.empty()) o["field"] = utf8_lossy(e.field);
    return o;
}

boost::json::object clamp_json(const std::vector<Decision>& decisions) {
    std::size_t counts[4] = {0, 0, 0, 0};
    boost::json::array list;
    for (const Decision& d : decisions) {
        ++counts[static_cast<int>(d.verdict)];
        boost::json::array result;
        for (const auto& r : d.result)
            result.push_back(boost::json::object{{"field", r.field}, {"value", utf8_lossy(r.value)}});
        boost::json::object o{{"argument", utf8_lossy(d.argument)},
                              {"field", d.field},
                              {"requested", utf8_lossy(d.requested)},
                              {"verdict", to_string(d.verdict)},
                              {"result", std::move(result)}};
        if (!d.reason.empty()) o["reason"] = utf8_lossy(d.reason);
        list.push_back(std::move(o));
    }
    return {
        {"summary", {{"kept", counts[0]}, {"narrowed", counts[1]}, {"downgraded", counts[2]}, {"dropped", counts[3]}}},
        {"decisions", std::move(list)}};
}

// What the output schemas allow as status: a cancelled call is never answered, so never encoded.
std::string status_text(CallStatus s) {
    return s == CallStatus::cancelled ? std::string("failed") : std::string(to_string(s));
}

}  // namespace

std::string put_bytes(boost::json::object& o, const char* name, const std::string& bytes) {
    if (detail::valid_utf8(bytes)) {
        o[name] = bytes;
        return "utf-8";
    }
    o[name] = detail::base64_encode(bytes);
    return "base64";
}

Converted<RunCommandArgs> run_command_args(const boost::json::object& a) {
    Converted<RunCommandArgs> out;
    RunCommandArgs args;
    args.argv = strings(a, "argv");
    args.command = string_of(a, "command");
    if (a.contains("argv") == args.command.has_value()) {
        out.error = {args.command ? "give argv or command, not both" : "give the command to run, as argv or command",
                     args.command ? "/command" : ""};
        return out;
    }
    args.cwd = string_of(a, "cwd");
    if (const auto* env = a.if_contains("env"))
        for (const auto& kv : env->as_object()) {
            std::string name(kv.key());
            if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
                out.error = {"an environment variable name is non-empty and has no '=' or NUL",
                             detail::pointer_child("/env", name)};
                return out;
            }
            args.env.emplace_back(std::move(name), std::string(kv.value().as_string()));
        }
    if (const auto* t = a.if_contains("timeout_ms")) args.timeout_ms = t->to_number<std::uint32_t>();
    if (const auto* n = a.if_contains("network"))
        args.network = n->as_string() == "allow" ? NetworkChoice::allow : NetworkChoice::block;
    args.readonly_paths = strings(a, "readonly_paths");
    args.readwrite_paths = strings(a, "readwrite_paths");
    out.args = std::move(args);
    return out;
}

Converted<ReadFileArgs> read_file_args(const boost::json::object& a) {
    Converted<ReadFileArgs> out;
    ReadFileArgs args;
    args.path = std::string(a.at("path").as_string());
    if (const auto* m = a.if_contains("max_bytes")) args.max_bytes = m->to_number<std::size_t>();
    out.args = std::move(args);
    return out;
}

Converted<WriteFileArgs> write_file_args(const boost::json::object& a, std::size_t max_write_bytes) {
    Converted<WriteFileArgs> out;
    WriteFileArgs args;
    args.path = std::string(a.at("path").as_string());
    std::string_view content = a.at("content").as_string();
    const auto* encoding = a.if_contains("encoding");
    if (encoding && encoding->as_string() == "base64") {
        auto bytes = detail::base64_decode(content);
        if (!bytes) {
            out.error = {"content is not valid base64", "/content"};
            return out;
        }
        args.content = std::move(*bytes);
    } else {
        args.content = std::string(content);
    }
    if (args.content.size() > max_write_bytes) {
        out.error = {"content is " + std::to_string(args.content.size()) + " bytes; the limit is " +
                         std::to_string(max_write_bytes),
                     "/content"};
        return out;
    }
    out.args = std::move(args);
    return out;
}

boost::json::object to_json(const RunCommandResult& r) {
    boost::json::object o;
    o["status"] = status_text(r.status);
    o["timed_out"] = r.status == CallStatus::timed_out;
    if (r.status == CallStatus::completed || r.status == CallStatus::timed_out || r.status == CallStatus::failed) {
        o["exit_code"] = r.exit_code;
        o["signal"] = r.signal;
        o["stdout_encoding"] = put_bytes(o, "stdout", r.out);
        o["stdout_truncated_bytes"] = r.out_dropped;
        o["stderr_encoding"] = put_bytes(o, "stderr", r.err);
        o["stderr_truncated_bytes"] = r.err_dropped;
        o["duration_ms"] = r.duration_ms;
        o["failure"] = r.failure;
        if (!r.failure_message.empty()) o["failure_message"] = utf8_lossy(r.failure_message);
    }
    if (!r.command_line.empty()) o["command_line"] = utf8_lossy(r.command_line);
    if (r.clamped) o["clamp"] = clamp_json(r.clamp);
    if (r.error) o["error"] = error_json(*r.error);
    return o;
}

boost::json::object to_json(const ReadFileResult& r) {
    boost::json::object o{{"status", status_text(r.status)}};
    if (!r.path.empty()) o["path"] = utf8_lossy(r.path);
    if (r.status == CallStatus::completed) {
        o["encoding"] = put_bytes(o, "content", r.content);
        o["bytes"] = r.content.size();
        o["truncated"] = r.truncated;
    }
    if (r.error) o["error"] = error_json(*r.error);
    return o;
}

boost::json::object to_json(const WriteFileResult& r) {
    boost::json::object o{{"status", status_text(r.status)}};
    if (!r.path.empty()) o["path"] = utf8_lossy(r.path);
    if (r.status == CallStatus::completed) o["bytes_written"] = r.bytes_written;
    if (r.error) o["error"] = error_json(*r.error);
    return o;
}

boost::json::object to_json(const SandboxDescription& d) {
    const Capabilities& c = d.capabilities;
    boost::json::object caps{{"backend", to_string(c.backend)},
                             {"sdk_version", c.sdk_version},
                             {"read_allowlist", c.read_allowlist},
                             {"write_allowlist", c.write_allowlist},
                             {"denied_paths", c.denied_paths},
                             {"network_block", c.network_block},
                             {"host_filtering", c.host_filtering},
                             {"executor_timeout", c.executor_timeout},
                             {"file_grants", c.file_grants},
                             {"ui_limits", c.ui_limits},
                             {"evidence", c.evidence == Evidence::measured ? "measured" : "assumed"},
                             {"source", c.source}};
    boost::json::object ceiling{{"readonly_paths", json_strings(d.readonly_roots)},
                                {"readwrite_paths", json_strings(d.readwrite_roots)},
                                {"denied_paths", json_strings(d.denied_roots)},
                                {"timeout_ms", d.timeout_ms},
                                {"network", d.network},
                                {"allowed_hosts", json_strings(d.allowed_hosts)},
                                {"env_allow", json_strings(d.env_allow)},
                                {"file", utf8_lossy(d.ceiling_file)}};
    boost::json::object limits{{"max_concurrency", d.limits.max_concurrency},
                               {"output_limit", d.limits.output_limit},
                               {"max_read_bytes", d.limits.max_read_bytes},
                               {"max_write_bytes", d.limits.max_write_bytes},
                               {"file_timeout_ms", d.limits.file_timeout_ms}};
    return {{"backend", d.backend},
            {"executor",
             {{"path", utf8_lossy(d.executor_path)}, {"sha256", d.executor_sha256}, {"sdk_version", d.executor_sdk}}},
            {"capabilities", std::move(caps)},
            {"ceiling", std::move(ceiling)},
            {"limits", std::move(limits)}};
}

std::optional<boost::json::object> refused_output(const std::string& tool, const ToolError& error) {
    if (tool == "run_command") {
        RunCommandResult r;
        r.status = CallStatus::refused;
        r.error = error;
        return to_json(r);
    }
    if (tool == "describe_sandbox") return std::nullopt;
    // read_file and write_file share the {status, error} shape for a refusal.
    return boost::json::object{{"status", "refused"}, {"error", error_json(error)}};
}

}  // namespace cordon::mcp
