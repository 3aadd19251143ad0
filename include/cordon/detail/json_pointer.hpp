// SPDX-License-Identifier: MIT
// cordon: building RFC 6901 JSON pointers.
#pragma once

#include <cstddef>  // std::size_t
#include <string>
#include <string_view>

namespace cordon::detail {

/// Appends one reference token: "~" becomes "~0" and "/" becomes "~1".
inline std::string pointer_child(std::string_view parent, std::string_view token) {
    std::string out(parent);
    out += '/';
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

inline std::string pointer_child(std::string_view parent, std::size_t index) {
    return std::string(parent) + '/' + std::to_string(index);
}

}  // namespace cordon::detail
