// SPDX-License-Identifier: MIT
// cordon: locale-free upper-casing of UTF-8 text, the comparison key of Windows path components.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/detail/utf8.hpp"

namespace cordon::detail {

// Windows compares names with a fixed upcase table, never the locale. This maps the subset of that
// table we are sure of (ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic, fullwidth a-z);
// other characters compare exactly, so two spellings differing only there never count as equal:
// a grant is dropped rather than widened, but a ceiling's denial or a trust anchor spelt in the
// other case would be missed. Canonicalisation returns on-disk case for what exists, which closes
// that gap except for lexical (--no-canonical) clamps and paths not yet created.
constexpr std::uint32_t ordinal_upcase(std::uint32_t c) noexcept {
    if (c >= 'a' && c <= 'z') return c - 0x20;
    if (c < 0x80) return c;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17E) {
        // Pairs alternate upper/lower; the parity flips after U+0138, after U+0148 and at U+0178
        // (Ÿ, the upper case of U+00FF ÿ).
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x178) return c;
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
