// SPDX-License-Identifier: MIT
// cordon mcp: tool definitions as JSON text (what clients see) and the checker that enforces them.
#include "schemas.hpp"

#include <cmath>
#include <set>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/utf8.hpp"
#include "json_rpc.hpp"

namespace cordon::mcp {
namespace {

// Shared pieces, spliced into the schemas below by name.
constexpr std::string_view error_schema = R"({
  "type": "object",
  "description": "Why the call was refused or failed.",
  "properties": {
    "code": {"type": "string", "description": "Stable code: invalid-arguments, invalid-policy, backend-unsupported, execution-failed, io-error, ..."},
    "message": {"type": "string"},
    "field": {"type": "string", "description": "JSON pointer into the tool arguments of the argument at fault."}
  },
  "required": ["code", "message"],
  "additionalProperties": false
})";

constexpr std::string_view clamp_schema = R"({
  "type": "object",
  "description": "What the operator's ceiling did with each requested item, and why.",
  "properties": {
    "summary": {
      "type": "object",
      "properties": {
        "kept": {"type": "integer", "minimum": 0},
        "narrowed": {"type": "integer", "minimum": 0},
        "downgraded": {"type": "integer", "minimum": 0},
        "dropped": {"type": "integer", "minimum": 0}
      },
      "required": ["kept", "narrowed", "downgraded", "dropped"],
      "additionalProperties": false
    },
    "decisions": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "argument": {"type": "string", "description": "JSON pointer into the tool arguments."},
          "field": {"type": "string", "description": "JSON pointer into the MXC request cordon built."},
          "requested": {"type": "string"},
          "verdict": {"type": "string", "enum": ["kept", "narrowed", "downgraded", "dropped"]},
          "result": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {"field": {"type": "string"}, "value": {"type": "string"}},
              "required": ["field", "value"],
              "additionalProperties": false
            }
          },
          "reason": {"type": "string"}
        },
        "required": ["argument", "field", "requested", "verdict", "result"],
        "additionalProperties": false
      }
    }
  },
  "required": ["summary", "decisions"],
  "additionalProperties": false
})";

constexpr std::string_view run_command_in = R"({
  "type": "object",
  "properties": {
    "argv": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4096,
             "description": "Program and arguments, run without a shell (each argument is passed exactly). Give argv or command, not both."},
    "command": {"type": "string", "minLength": 1, "maxLength": 65536,
                "description": "A shell command line, run with sh -c inside the sandbox. Give argv or command, not both."},
    "cwd": {"type": "string", "description": "Absolute working directory. It must lie inside a path granted by this call, or it is dropped."},
    "env": {"type": "object", "additionalProperties": {"type": "string"},
            "description": "Environment variables. Nothing is inherited; names outside the operator's allow-list are dropped."},
    "timeout_ms": {"type": "integer", "minimum": 0, "maximum": 4294967295,
                   "description": "Wall-clock limit in milliseconds; 0 means none, and the ceiling's limit applies either way."},
    "network": {"type": "string", "enum": ["block", "allow"], "description": "Default block; allow only if the ceiling allows the network."},
    "readonly_paths": {"type": "array", "items": {"type": "string"}, "maxItems": 256,
                       "description": "Absolute paths the command may read (files or directories)."},
    "readwrite_paths": {"type": "array", "items": {"type": "string"}, "maxItems": 256,
                        "description": "Absolute paths the command may read and write."}
  },
  "additionalProperties": false
})";

constexpr std::string_view run_command_out = R"({
  "type": "object",
  "properties": {
    "status": {"type": "string", "enum": ["completed", "timed_out", "refused", "failed"],
               "description": "completed: the command ran to its end (see exit_code); timed_out: killed at the timeout, whole tree; refused: nothing ran; failed: the sandbox could not run it."},
    "exit_code": {"type": "integer", "description": "The command's exit status; -1 when a signal ended it or it did not run."},
    "signal": {"type": "integer", "minimum": 0},
    "stdout": {"type": "string"},
    "stdout_encoding": {"type": "string", "enum": ["utf-8", "base64"]},
    "stdout_truncated_bytes": {"type": "integer", "minimum": 0, "description": "Bytes beyond the output limit, counted and dropped."},
    "stderr": {"type": "string"},
    "stderr_encoding": {"type": "string", "enum": ["utf-8", "base64"]},
    "stderr_truncated_bytes": {"type": "integer", "minimum": 0},
    "timed_out": {"type": "boolean"},
    "duration_ms": {"type": "integer", "minimum": 0},
    "failure": {"type": "string", "description": "none, or who failed: config-rejected, backend-error, launch-failed, backend-unavailable, spawn-failed."},
    "failure_message": {"type": "string"},
    "command_line": {"type": "string", "description": "The line the sandbox ran with sh -c."},
    "clamp": "@clamp",
    "error": "@error"
  },
  "required": ["status", "timed_out"],
  "additionalProperties": false
})";

constexpr std::string_view read_file_in = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "Absolute path of a regular file inside a read-only or read-write root of the ceiling."},
    "max_bytes": {"type": "integer", "minimum": 1, "maximum": 1, "description": "Bytes to return at most; more is reported as truncated."}
  },
  "required": ["path"],
  "additionalProperties": false
})";

constexpr std::string_view read_file_out = R"({
  "type": "object",
  "properties": {
    "status": {"type": "string", "enum": ["completed", "timed_out", "refused", "failed"]},
    "path": {"type": "string", "description": "The canonical path that was read."},
    "content": {"type": "string"},
    "encoding": {"type": "string", "enum": ["utf-8", "base64"]},
    "bytes": {"type": "integer", "minimum": 0},
    "truncated": {"type": "boolean"},
    "error": "@error"
  },
  "required": ["status"],
  "additionalProperties": false
})";

constexpr std::string_view write_file_in = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "Absolute path of the file to create or replace; its directory must exist inside a read-write root of the ceiling."},
    "content": {"type": "string", "maxLength": 1, "description": "The whole new content."},
    "encoding": {"type": "string", "enum": ["utf-8", "base64"], "default": "utf-8", "description": "How content is encoded."}
  },
  "required": ["path", "content"],
  "additionalProperties": false
})";

constexpr std::string_view write_file_out = R"({
  "type": "object",
  "properties": {
    "status": {"type": "string", "enum": ["completed", "timed_out", "refused", "failed"]},
    "path": {"type": "string", "description": "The canonical path that was written."},
    "bytes_written": {"type": "integer", "minimum": 0},
    "error": "@error"
  },
  "required": ["status"],
  "additionalProperties": false
})";

constexpr std::string_view describe_in = R"({"type": "object", "additionalProperties": false})";

constexpr std::string_view describe_out = R"({
  "type": "object",
  "properties": {
    "backend": {"type": "string"},
    "executor": {
      "type": "object",
      "properties": {"path": {"type": "string"}, "sha256": {"type": "string"}, "sdk_version": {"type": "string"}},
      "required": ["path", "sha256", "sdk_version"],
      "additionalProperties": false
    },
    "capabilities": {
      "type": "object",
      "properties": {
        "backend": {"type": "string"}, "sdk_version": {"type": "string"},
        "read_allowlist": {"type": "boolean"}, "write_allowlist": {"type": "boolean"},
        "denied_paths": {"type": "boolean"}, "network_block": {"type": "boolean"},
        "host_filtering": {"type": "boolean"}, "executor_timeout": {"type": "boolean"},
        "file_grants": {"type": "boolean"}, "ui_limits": {"type": "boolean"},
        "evidence": {"type": "string", "enum": ["measured", "assumed"]}, "source": {"type": "string"}
      },
      "additionalProperties": false
    },
    "ceiling": {
      "type": "object",
      "properties": {
        "readonly_paths": {"type": "array", "items": {"type": "string"}},
        "readwrite_paths": {"type": "array", "items": {"type": "string"}},
        "denied_paths": {"type": "array", "items": {"type": "string"}},
        "timeout_ms": {"type": "integer", "minimum": 0, "description": "0: the ceiling sets no limit."},
        "network": {"type": "string", "enum": ["block", "allow"]},
        "allowed_hosts": {"type": "array", "items": {"type": "string"}},
        "env_allow": {"type": "array", "items": {"type": "string"}},
        "file": {"type": "string", "description": "The ceiling file; empty when it came from CORDON_* variables."}
      },
      "required": ["readonly_paths", "readwrite_paths", "denied_paths", "timeout_ms", "network"],
      "additionalProperties": false
    },
    "limits": {
      "type": "object",
      "properties": {
        "max_concurrency": {"type": "integer", "minimum": 1},
        "output_limit": {"type": "integer", "minimum": 0},
        "max_read_bytes": {"type": "integer", "minimum": 1},
        "max_write_bytes": {"type": "integer", "minimum": 0},
        "file_timeout_ms": {"type": "integer", "minimum": 0}
      },
      "additionalProperties": false
    }
  },
  "required": ["backend", "executor", "capabilities", "ceiling", "limits"],
  "additionalProperties": false
})";

boost::json::value parse_text(std::string_view text) {
    return boost::json::parse(boost::json::string_view(text.data(), text.size()));
}

// Parses one of the texts above and replaces "@clamp" / "@error" members by those schemas.
boost::json::object schema(std::string_view text) {
    boost::json::value v = parse_text(text);
    auto& o = v.as_object();
    if (auto* props = o.if_contains("properties")) {
        for (auto& member : props->as_object()) {
            if (member.value() == "@clamp")
                member.value() = parse_text(clamp_schema);
            else if (member.value() == "@error")
                member.value() = parse_text(error_schema);
        }
    }
    return o;
}

void set_limit(boost::json::object& s, const char* property, const char* keyword, std::uint64_t value) {
    s.at("properties").as_object().at(property).as_object()[keyword] = value;
}

boost::json::object annotations(bool read_only, bool destructive, bool idempotent, bool open_world) {
    boost::json::object a{{"readOnlyHint", read_only}, {"openWorldHint", open_world}};
    if (!read_only) {  // the spec defines the other two only for tools that modify
        a["destructiveHint"] = destructive;
        a["idempotentHint"] = idempotent;
    }
    return a;
}

const char* schema_type_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            return "integer";
        case boost::json::kind::double_:
            return "number";
        case boost::json::kind::string:
            return "string";
        case boost::json::kind::array:
            return "array";
        case boost::json::kind::object:
            return "object";
    }
    return "?";
}

bool is_integer(const boost::json::value& v) {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double();
}

bool type_is(std::string_view type, const boost::json::value& v) {
    if (type == "string") return v.is_string();
    if (type == "integer") return is_integer(v);
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_bool();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "null") return v.is_null();
    return false;
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // the parser guarantees valid UTF-8
    return n;
}

std::optional<SchemaError> check_bounds(const boost::json::object& s, const boost::json::value& v,
                                        const std::string& at) {
    auto bound = [&](const char* k) -> const boost::json::value* { return s.if_contains(k); };
    if (v.is_string()) {
        std::size_t n = code_points(v.get_string());
        if (auto* m = bound("minLength"); m && n < m->to_number<std::uint64_t>())
            return SchemaError{"must not be shorter than " + boost::json::serialize(*m) + " characters", at};
        if (auto* m = bound("maxLength"); m && n > m->to_number<std::uint64_t>())
            return SchemaError{"must not be longer than " + boost::json::serialize(*m) + " characters", at};
    }
    if (v.is_number()) {
        // Compared as doubles: every bound here is an integer well inside 2^53, so no value is misjudged.
        double d = v.to_number<double>();
        if (auto* m = bound("minimum"); m && d < m->to_number<double>())
            return SchemaError{"must be at least " + boost::json::serialize(*m), at};
        if (auto* m = bound("maximum"); m && d > m->to_number<double>())
            return SchemaError{"must be at most " + boost::json::serialize(*m), at};
    }
    if (v.is_array()) {
        std::size_t n = v.get_array().size();
        if (auto* m = bound("minItems"); m && n < m->to_number<std::uint64_t>())
            return SchemaError{"needs at least " + boost::json::serialize(*m) + " items", at};
        if (auto* m = bound("maxItems"); m && n > m->to_number<std::uint64_t>())
            return SchemaError{"may have at most " + boost::json::serialize(*m) + " items", at};
    }
    return std::nullopt;
}

std::optional<SchemaError> check_object(const boost::json::object& s, const boost::json::object& o,
                                        const std::string& at) {
    const boost::json::object* props = s.if_contains("properties") ? &s.at("properties").as_object() : nullptr;
    const boost::json::value* extra = s.if_contains("additionalProperties");
    for (const auto& member : o) {
        std::string_view key(member.key().data(), member.key().size());
        std::string field = detail::pointer_child(at, key);
        if (props && props->contains(member.key())) {
            if (auto e = check_schema(props->at(member.key()), member.value(), field)) return e;
        } else if (extra && extra->is_bool() && !extra->get_bool()) {
            std::string known;
            if (props)
                for (const auto& p : *props) known += (known.empty() ? "" : ", ") + std::string(p.key());
            return SchemaError{"unknown field \"" + utf8_lossy(key) + "\"" +
                                   (known.empty() ? " (this tool takes no arguments)" : " (known: " + known + ")"),
                               field};
        } else if (extra && extra->is_object()) {
            if (auto e = check_schema(*extra, member.value(), field)) return e;
        }
    }
    if (const auto* required = s.if_contains("required"))
        for (const auto& name : required->as_array())
            if (!o.contains(name.as_string()))
                return SchemaError{"required field is missing", detail::pointer_child(at, name.as_string())};
    return std::nullopt;
}

const std::set<std::string_view>& known_keywords() {
    static const std::set<std::string_view> k{"type",        "properties", "required", "additionalProperties",
                                              "items",       "enum",       "minItems", "maxItems",
                                              "minLength",   "maxLength",  "minimum",  "maximum",
                                              "description", "title",      "default"};
    return k;
}

}  // namespace

std::optional<SchemaError> check_schema(const boost::json::value& schema, const boost::json::value& value,
                                        const std::string& at) {
    const boost::json::object& s = schema.as_object();
    if (const auto* type = s.if_contains("type")) {
        std::string_view t = type->as_string();
        if (!type_is(t, value))
            return SchemaError{
                "must be " + std::string(t == "array" || t == "integer" || t == "object" ? "an " : "a ") +
                    std::string(t) + ", not " + (value.is_null() ? "null" : "a " + std::string(schema_type_name(value))),
                at};
    }
    if (const auto* choices = s.if_contains("enum")) {
        bool found = false;
        std::string list;
        for (const auto& c : choices->as_array()) {
            found = found || c == value;
            list += (list.empty() ? "" : ", ") + boost::json::serialize(c);
        }
        if (!found) return SchemaError{"must be one of " + list, at};
    }
    if (auto e = check_bounds(s, value, at)) return e;
    if (value.is_array())
        if (const auto* items = s.if_contains("items")) {
            const auto& a = value.get_array();
            for (std::size_t i = 0; i < a.size(); ++i)
                if (auto e = check_schema(*items, a[i], detail::pointer_child(at, i))) return e;
        }
    if (value.is_object()) return check_object(s, value.get_object(), at);
    return std::nullopt;
}

std::vector<std::string> unsupported_keywords(const boost::json::value& schema, const std::string& at) {
    std::vector<std::string> out;
    if (!schema.is_object()) return {at + " (not a schema object)"};
    for (const auto& member : schema.get_object()) {
        std::string_view key(member.key().data(), member.key().size());
        std::string here = detail::pointer_child(at, key);
        if (!known_keywords().count(key)) {
            out.push_back(here);
            continue;
        }
        std::vector<std::string> nested;
        if (key == "properties")
            for (const auto& p : member.value().as_object())
                for (auto& k : unsupported_keywords(p.value(), detail::pointer_child(here, p.key())))
                    nested.push_back(k);
        if (key == "items" || (key == "additionalProperties" && member.value().is_object()))
            nested = unsupported_keywords(member.value(), here);
        if (key == "type" && !member.value().is_string()) nested.push_back(here + " (only one type name)");
        out.insert(out.end(), nested.begin(), nested.end());
    }
    return out;
}

std::vector<ToolDefinition> tool_definitions(const ToolLimits& limits) {
    std::vector<ToolDefinition> tools;
    tools.push_back({"run_command", "Run a command in the sandbox",
                     "Runs a command inside cordon's sandbox (bubblewrap through Microsoft's verified MXC executor). "
                     "Nothing is granted unless asked for: list the paths the command needs in readonly_paths and "
                     "readwrite_paths. The operator's ceiling bounds every grant, the cwd, env, timeout and network; "
                     "what it kept, narrowed or dropped, and why, is in the result's clamp section. Give argv (no "
                     "shell) or command (a sh -c line). describe_sandbox shows what the ceiling allows.",
                     schema(run_command_in), schema(run_command_out), annotations(false, true, false, true)});
    tools.push_back({"read_file", "Read a file through the sandbox",
                     "Reads a regular file inside a read-only or read-write root of the operator's ceiling. The read "
                     "is done by a contained process in the sandbox, granted only that file, so the kernel enforces "
                     "the grant. Content is UTF-8 text when it is valid UTF-8, else base64.",
                     schema(read_file_in), schema(read_file_out), annotations(true, false, true, false)});
    set_limit(tools.back().input_schema, "max_bytes", "maximum", limits.max_read_bytes);
    tools.push_back({"write_file", "Write a file through the sandbox",
                     "Creates or replaces a file whose directory lies inside a read-write root of the operator's "
                     "ceiling. The write is done by a contained process in the sandbox, granted only that directory; "
                     "a symbolic link at the path is refused rather than followed.",
                     schema(write_file_in), schema(write_file_out), annotations(false, true, true, false)});
    // base64 is 4/3 of the bytes; the exact byte limit is checked after decoding.
    set_limit(tools.back().input_schema, "content", "maxLength", (limits.max_write_bytes + 2) / 3 * 4);
    tools.push_back({"describe_sandbox", "Describe the sandbox",
                     "Shows what runs here: the operator's ceiling (the most any call may be granted), the backend, "
                     "the verified executor (path, SHA-256, SDK version), what the backend enforces, and the server's "
                     "limits.",
                     schema(describe_in), schema(describe_out), annotations(true, false, true, false)});
    return tools;
}

}  // namespace cordon::mcp
