// SPDX-License-Identifier: MIT
// cordon mcp: the four tools' definitions (JSON Schemas in and out) and the strict argument checker.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "tools.hpp"

namespace cordon::mcp {

/// One entry of tools/list.
struct ToolDefinition {
    std::string name;
    std::string title;
    std::string description;
    boost::json::object input_schema;
    boost::json::object output_schema;
    boost::json::object annotations;  ///< readOnlyHint, destructiveHint, idempotentHint, openWorldHint
};

/// The tools in a fixed order (clients may cache the list), with the limits written into the
/// schemas' maxima.
std::vector<ToolDefinition> tool_definitions(const ToolLimits& limits);

/// A value that does not satisfy a schema: what is wrong, and the JSON pointer of the value.
struct SchemaError {
    std::string message;
    std::string field;
};

/// Checks `value` against `schema`, which must use only the keywords this checker knows (type,
/// properties, required, additionalProperties, items, enum, minItems, maxItems, minLength,
/// maxLength, minimum, maximum, and the annotations description/title/default). Unknown members
/// of an object are rejected by name when additionalProperties is false. `at` prefixes pointers.
std::optional<SchemaError> check_schema(const boost::json::value& schema, const boost::json::value& value,
                                        const std::string& at = "");

/// Keywords in `schema` (recursively) that check_schema would not enforce: a schema using one is a
/// bug, found by the unit test, never a silently weaker check.
std::vector<std::string> unsupported_keywords(const boost::json::value& schema, const std::string& at = "");

}  // namespace cordon::mcp
