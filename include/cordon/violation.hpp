// SPDX-License-Identifier: MIT
// cordon: one reason a config is invalid, located by a JSON pointer.
#pragma once

#include <string>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// A contract violation: `pointer` is an RFC 6901 JSON pointer into the document ("" = the root).
struct Violation {
    std::string pointer;
    std::string message;

    /// "POINTER: message", with "(root)" for the empty pointer.
    std::string to_string() const { return (pointer.empty() ? std::string("(root)") : pointer) + ": " + message; }
    friend bool operator==(const Violation& a, const Violation& b) {
        return a.pointer == b.pointer && a.message == b.message;
    }
};

using Violations = std::vector<Violation>;

/// The first violation as an invalid-policy Error, noting how many more there are.
inline Error to_error(const Violations& violations) {
    if (violations.empty()) return make_error(ErrorCode::internal, "no violation to report");
    std::string message = violations.front().message;
    if (violations.size() > 1)
        message += " (and " + std::to_string(violations.size() - 1) + " more violation" +
                   (violations.size() > 2 ? "s" : "") + ")";
    return make_error(ErrorCode::invalid_policy, std::move(message), violations.front().pointer);
}

}  // namespace cordon
