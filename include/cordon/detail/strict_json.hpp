// SPDX-License-Identifier: MIT
// cordon: strict JSON reading (RFC 8259 only, duplicate keys rejected with their pointer).
#pragma once

#include <cstddef>  // std::size_t
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "cordon/config.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

/// Larger inputs are refused before parsing: an MXC config is a few KiB.
inline constexpr std::size_t max_config_bytes = 8u * 1024u * 1024u;
inline constexpr std::size_t max_json_depth = 32;

/// 1-based line and column of a byte offset, for syntax errors.
inline std::string line_column(std::string_view text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') { ++line; column = 1; }
        else ++column;
    }
    return "line " + std::to_string(line) + " column " + std::to_string(column);
}

/// Parses strict JSON: no comments, trailing commas, BOM, invalid UTF-8, trailing data or duplicate
/// keys. On failure fills `violation` (pointer of the duplicate key, or root with line and column).
CORDON_FUNC bool parse_strict_json(std::string_view text, boost::json::value& out, Violation& violation);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/strict_json.hpp"
#endif
