// SPDX-License-Identifier: MIT
// cordon: ASCII-only case folding, for names that are ASCII by definition (arch names, DNS labels);
// never locale-dependent.
#pragma once

#include <cstddef>
#include <string_view>

namespace cordon::detail {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

}  // namespace cordon::detail
