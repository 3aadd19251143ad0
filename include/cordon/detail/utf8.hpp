// SPDX-License-Identifier: MIT
// cordon: strict UTF-8 decoding and encoding, one code point at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cordon::detail {

/// Decodes one UTF-8 sequence at `i` (advancing it); returns false on malformed input
/// (overlong forms, surrogates, values above U+10FFFF, truncation).
inline bool utf8_next(std::string_view s, std::size_t& i, std::uint32_t& out) noexcept {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b0 = byte(i);
    std::size_t n;
    std::uint32_t min;
    if (b0 < 0x80) { out = b0; ++i; return true; }
    if ((b0 & 0xE0) == 0xC0) { n = 1; out = b0 & 0x1Fu; min = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { n = 2; out = b0 & 0x0Fu; min = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { n = 3; out = b0 & 0x07u; min = 0x10000; }
    else return false;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return false;
        out = (out << 6) | (byte(i + k) & 0x3Fu);
    }
    if (out < min || out > 0x10FFFF || (out >= 0xD800 && out <= 0xDFFF)) return false;
    i += n + 1;
    return true;
}

inline void utf8_append(std::string& out, std::uint32_t c) {
    if (c < 0x80) out += static_cast<char>(c);
    else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

inline bool valid_utf8(std::string_view s) noexcept {
    std::uint32_t c;
    for (std::size_t i = 0; i < s.size();)
        if (!utf8_next(s, i, c)) return false;
    return true;
}

}  // namespace cordon::detail
