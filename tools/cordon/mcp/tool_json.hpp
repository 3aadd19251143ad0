// SPDX-License-Identifier: MIT
// cordon mcp: tool arguments from JSON (after the schema check) and tool results to JSON.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "schemas.hpp"
#include "tools.hpp"

namespace cordon::mcp {

/// Arguments that passed the schema, converted; or the rule the schema cannot state that they
/// break (argv and command together, an env name with '=', content that is not base64, content
/// over the byte limit), with the argument's pointer.
template <class Args>
struct Converted {
    std::optional<Args> args;
    SchemaError error;
};

Converted<RunCommandArgs> run_command_args(const boost::json::object& arguments);
Converted<ReadFileArgs> read_file_args(const boost::json::object& arguments);
Converted<WriteFileArgs> write_file_args(const boost::json::object& arguments, std::size_t max_write_bytes);

/// Each result as its tool's output schema describes it.
boost::json::object to_json(const RunCommandResult& r);
boost::json::object to_json(const ReadFileResult& r);
boost::json::object to_json(const WriteFileResult& r);
boost::json::object to_json(const SandboxDescription& d);

/// The output of `tool` for arguments refused before the tool ran, in its own schema's shape;
/// nothing for describe_sandbox, whose schema has no refusal (an isError result without it is valid).
std::optional<boost::json::object> refused_output(const std::string& tool, const ToolError& error);

/// Bytes as a JSON string: the text itself when it is UTF-8, else base64; returns the encoding.
std::string put_bytes(boost::json::object& o, const char* name, const std::string& bytes);

}  // namespace cordon::mcp
