// SPDX-License-Identifier: MIT
// cordon: locale-free upper-casing of UTF-8 text, the comparison key of Windows path components.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cordon::detail {

// Windows compares names with a fixed upcase table, never the locale. This maps the subset of that
// table we are sure of (ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic, fullwidth a-z);
// other characters compare exactly, so two spellings differing only there never count as equal
// and a grant is dropped rather than widened. Canonicalisation returns on-disk case anyway.
constexpr std::uint32_t ordinal_upcase(std::uint32_t c) noexcept {
    if (c >= 'a' && c <= 'z') return c - 0x20;
    if (c < 0x80) return c;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17E) {
        // Pairs alternate upper/lower; the parity flips after U+0138 and again after U+0148.
        if (c == 0x131 || c == 0x138 || c == 0x149) return c;
        bool odd_is_lower = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
        if (odd_is_lower) return (c & 1u) ? c - 1 : c;
        return (c & 1u) ? c : c - 1;
    }
    if ((c >= 0x3B1 && c <= 0x3C1) || (c >= 0x3C3 && c <= 0x3CB)) return c - 0x20;
    if (c >= 0x430 && c <= 0x44F) return c - 0x20;
    if (c >= 0x450 && c <= 0x45F) return c - 0x50;
    if (c >= 0xFF41 && c <= 0xFF5A) return c - 0x20;
    return c;
}

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

/// Upper-cased copy of valid UTF-8 text (callers check validity first).
inline std::string ordinal_upper(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::uint32_t c;
    for (std::size_t i = 0; i < s.size();) {
        if (!utf8_next(s, i, c)) {  // unreachable for validated text; keep the byte rather than loop
            out += s[i++];
            continue;
        }
        utf8_append(out, ordinal_upcase(c));
    }
    return out;
}

}  // namespace cordon::detail
