// SPDX-License-Identifier: MIT
// cordon: strict UTF-8 <-> UTF-16 conversion, portable (Windows APIs speak UTF-16, cordon speaks UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cordon/detail/utf8.hpp"

namespace cordon::detail {

/// UTF-8 to UTF-16, or nullopt for anything that is not well-formed UTF-8 (overlong forms,
/// surrogates, code points above U+10FFFF, truncated sequences). Never substitutes U+FFFD: a path
/// or argument that changed on the way would name something else.
inline std::optional<std::u16string> utf8_to_utf16(std::string_view in) {
    std::u16string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        std::uint32_t c;
        if (!utf8_next(in, i, c)) return std::nullopt;
        if (c >= 0x10000) {
            c -= 0x10000;
            out += static_cast<char16_t>(0xD800 + (c >> 10));
            out += static_cast<char16_t>(0xDC00 + (c & 0x3FF));
        } else {
            out += static_cast<char16_t>(c);
        }
    }
    return out;
}

/// UTF-16 to UTF-8, or nullopt for an unpaired surrogate.
inline std::optional<std::string> utf16_to_utf8(std::u16string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        std::uint32_t c = in[i];
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 >= in.size() || in[i + 1] < 0xDC00 || in[i + 1] > 0xDFFF) return std::nullopt;
            c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<std::uint32_t>(in[++i]) - 0xDC00);
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return std::nullopt;
        }
        utf8_append(out, c);
    }
    return out;
}

}  // namespace cordon::detail
