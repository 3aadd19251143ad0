// SPDX-License-Identifier: MIT
// cordon: IPv4 and IPv6 addresses, parsed exactly as strictly as the MXC executor (Rust's std parser) and printed canonically.
#pragma once

#include <array>
#include <cstddef>  // std::size_t
#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// An unsigned 128-bit number (two 64-bit halves): the value of an IPv6 address. Arithmetic wraps.
/// Not `unsigned __int128`: MSVC has none, and -Wpedantic rejects it.
struct Uint128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;

    // (max), not max: immune to the max macro of <windows.h> without NOMINMAX
    static constexpr Uint128 (max)() noexcept { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }
    /// 2^n - 1 for n in 0..128: the host mask of a prefix of length 128 - n.
    static constexpr Uint128 low_mask(unsigned n) noexcept {
        if (n >= 128) return (max)();
        if (n >= 64) return {(std::uint64_t{1} << (n - 64)) - 1, ~std::uint64_t{0}};
        return {0, (std::uint64_t{1} << n) - 1};
    }
    constexpr Uint128 operator~() const noexcept { return {~hi, ~lo}; }
    friend constexpr Uint128 operator&(Uint128 a, Uint128 b) noexcept { return {a.hi & b.hi, a.lo & b.lo}; }
    friend constexpr Uint128 operator|(Uint128 a, Uint128 b) noexcept { return {a.hi | b.hi, a.lo | b.lo}; }
    friend constexpr Uint128 operator^(Uint128 a, Uint128 b) noexcept { return {a.hi ^ b.hi, a.lo ^ b.lo}; }
    friend constexpr Uint128 operator+(Uint128 a, Uint128 b) noexcept {
        std::uint64_t low = a.lo + b.lo;
        return {a.hi + b.hi + (low < a.lo ? 1 : 0), low};
    }
    friend constexpr Uint128 operator-(Uint128 a, Uint128 b) noexcept {
        return {a.hi - b.hi - (a.lo < b.lo ? 1 : 0), a.lo - b.lo};
    }
    constexpr Uint128 next() const noexcept { return *this + Uint128{0, 1}; }
    constexpr Uint128 prev() const noexcept { return *this - Uint128{0, 1}; }
    /// Number of trailing zero bits; 128 for zero.
    constexpr unsigned trailing_zeros() const noexcept {
        if (lo != 0) return ctz64(lo);
        if (hi != 0) return 64 + ctz64(hi);
        return 128;
    }
    /// Number of bits needed to write the value; 0 for zero.
    constexpr unsigned bit_width() const noexcept { return hi != 0 ? 64 + width64(hi) : width64(lo); }

    friend constexpr bool operator==(Uint128 a, Uint128 b) noexcept { return a.hi == b.hi && a.lo == b.lo; }
    friend constexpr bool operator!=(Uint128 a, Uint128 b) noexcept { return !(a == b); }
    friend constexpr bool operator<(Uint128 a, Uint128 b) noexcept { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; }
    friend constexpr bool operator>(Uint128 a, Uint128 b) noexcept { return b < a; }
    friend constexpr bool operator<=(Uint128 a, Uint128 b) noexcept { return !(b < a); }
    friend constexpr bool operator>=(Uint128 a, Uint128 b) noexcept { return !(a < b); }

private:
    static constexpr unsigned ctz64(std::uint64_t v) noexcept {
        unsigned n = 0;
        while ((v & 1) == 0) {
            v >>= 1;
            ++n;
        }
        return n;
    }
    static constexpr unsigned width64(std::uint64_t v) noexcept {
        unsigned n = 0;
        while (v != 0) {
            v >>= 1;
            ++n;
        }
        return n;
    }
};

enum class IpFamily : std::uint8_t { v4, v6 };

template <>
struct EnumNames<IpFamily> {
    static constexpr std::array<EnumName<IpFamily>, 2> table{{{"IPv4", IpFamily::v4}, {"IPv6", IpFamily::v6}}};
};

/// Address length in bits: 32 or 128.
constexpr unsigned address_bits(IpFamily f) noexcept { return f == IpFamily::v4 ? 32 : 128; }

/// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) stay IPv6 here, as they are
/// written; unmapped() gives the IPv4 address the executor turns them into.
class IpAddress {
public:
    constexpr IpAddress() noexcept = default;  ///< 0.0.0.0

    static constexpr IpAddress v4(std::uint32_t value) noexcept { return IpAddress(IpFamily::v4, {0, value}); }
    static constexpr IpAddress v6(Uint128 value) noexcept { return IpAddress(IpFamily::v6, value); }

    /// Parses an address with the grammar of Rust's `IpAddr::from_str`, which the executor uses: four
    /// decimal octets without leading zeros, or RFC 4291 text (at most one `::`, 1-4 hex digits per
    /// group, an optional dotted IPv4 tail), nothing else: no spaces, zone ids, brackets or short forms.
    /// Errors: invalid-policy, `where` = the text.
    static Result<IpAddress> parse(std::string_view text);

    constexpr IpFamily family() const noexcept { return family_; }
    /// The numeric value; an IPv4 address is in the low 32 bits.
    constexpr Uint128 value() const noexcept { return value_; }

    /// True for ::ffff:a.b.c.d.
    constexpr bool is_v4_mapped() const noexcept {
        return family_ == IpFamily::v6 && value_.hi == 0 && (value_.lo >> 32) == 0xffff;
    }
    /// The IPv4 address of an IPv4-mapped one, otherwise the address itself.
    constexpr IpAddress unmapped() const noexcept {
        return is_v4_mapped() ? v4(static_cast<std::uint32_t>(value_.lo)) : *this;
    }

    /// Canonical text: dotted quad, or RFC 5952 (lower case, longest zero run of two or more groups
    /// as `::`, the first on a tie; IPv4-mapped as ::ffff:a.b.c.d).
    std::string str() const;

    friend constexpr bool operator==(const IpAddress& a, const IpAddress& b) noexcept {
        return a.family_ == b.family_ && a.value_ == b.value_;
    }
    friend constexpr bool operator!=(const IpAddress& a, const IpAddress& b) noexcept { return !(a == b); }
    /// IPv4 before IPv6, then by value.
    friend constexpr bool operator<(const IpAddress& a, const IpAddress& b) noexcept {
        return a.family_ != b.family_ ? a.family_ < b.family_ : a.value_ < b.value_;
    }

private:
    constexpr IpAddress(IpFamily f, Uint128 v) noexcept : value_(v), family_(f) {}
    Uint128 value_;
    IpFamily family_ = IpFamily::v4;
};

namespace detail {

// A cursor over address text that mirrors the decisions of Rust's core::net parser, so that the
// same strings are accepted. Every read either succeeds or leaves the position unchanged.
class AddressScanner {
public:
    explicit AddressScanner(std::string_view s) noexcept : s_(s) {}
    bool at_end() const noexcept { return pos_ == s_.size(); }

    bool ipv4(std::uint32_t& out) noexcept {
        std::size_t start = pos_;
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            std::uint32_t octet = 0;
            if ((i > 0 && !literal('.')) || !number(10, 3, false, octet) || octet > 255) {
                pos_ = start;
                return false;
            }
            value = (value << 8) | octet;
        }
        out = value;
        return true;
    }

    bool ipv6(Uint128& out) noexcept {
        std::size_t start = pos_;
        std::uint16_t head[8] = {};
        bool head_v4 = false;
        std::size_t head_size = groups(head, 8, head_v4);
        std::uint16_t all[8] = {};
        for (std::size_t i = 0; i < head_size; ++i) all[i] = head[i];
        if (head_size < 8) {
            // An IPv4 tail ends the address, so it cannot come before "::".
            if (head_v4 || !literal(':') || !literal(':')) {
                pos_ = start;
                return false;
            }
            std::uint16_t tail[7] = {};
            bool tail_v4 = false;
            std::size_t tail_size = groups(tail, 7 - head_size, tail_v4);
            for (std::size_t i = 0; i < tail_size; ++i) all[8 - tail_size + i] = tail[i];
        }
        out = Uint128{};
        for (int i = 0; i < 4; ++i) out.hi = (out.hi << 16) | all[i];
        for (int i = 4; i < 8; ++i) out.lo = (out.lo << 16) | all[i];
        return true;
    }

private:
    bool literal(char c) noexcept {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    static int digit(char c, unsigned radix) noexcept {
        if (c >= '0' && c <= '9') return c - '0';
        if (radix == 16 && c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (radix == 16 && c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // Digits are read greedily: more than max_digits fails the whole number (it does not stop early).
    bool number(unsigned radix, unsigned max_digits, bool allow_zero_prefix, std::uint32_t& out) noexcept {
        std::size_t start = pos_;
        std::uint32_t value = 0;
        unsigned count = 0;
        bool leading_zero = pos_ < s_.size() && s_[pos_] == '0';
        for (int d; pos_ < s_.size() && (d = digit(s_[pos_], radix)) >= 0; ++pos_) {
            value = value * radix + static_cast<std::uint32_t>(d);
            if (++count > max_digits) {
                pos_ = start;
                return false;
            }
        }
        if (count == 0 || (!allow_zero_prefix && leading_zero && count > 1)) {
            pos_ = start;
            return false;
        }
        out = value;
        return true;
    }

    // Up to `limit` colon-separated groups; where two groups remain, a dotted IPv4 address may take
    // their place and ends the run.
    std::size_t groups(std::uint16_t* out, std::size_t limit, bool& ended_with_v4) noexcept {
        ended_with_v4 = false;
        for (std::size_t i = 0; i < limit; ++i) {
            std::size_t before = pos_;
            std::uint32_t v4 = 0;
            if (i + 1 < limit && (i == 0 || literal(':')) && ipv4(v4)) {
                out[i] = static_cast<std::uint16_t>(v4 >> 16);
                out[i + 1] = static_cast<std::uint16_t>(v4 & 0xffff);
                ended_with_v4 = true;
                return i + 2;
            }
            pos_ = before;
            std::uint32_t group = 0;
            if ((i > 0 && !literal(':')) || !number(16, 4, true, group)) {
                pos_ = before;
                return i;
            }
            out[i] = static_cast<std::uint16_t>(group);
        }
        return limit;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

inline void append_ipv4(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out += std::to_string((v >> shift) & 0xff);
        if (shift) out += '.';
    }
}

inline void append_hex_group(std::string& out, unsigned g) {
    static const char hex[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned nibble = (g >> shift) & 0xf;
        if (nibble || started || shift == 0) {
            out += hex[nibble];
            started = true;
        }
    }
}

}  // namespace detail

inline Result<IpAddress> IpAddress::parse(std::string_view text) {
    std::uint32_t v4 = 0;
    detail::AddressScanner a(text);
    if (a.ipv4(v4) && a.at_end()) return IpAddress::v4(v4);
    Uint128 v6;
    detail::AddressScanner b(text);
    if (b.ipv6(v6) && b.at_end()) return IpAddress::v6(v6);
    return make_error(ErrorCode::invalid_policy, "invalid IP address syntax: '" + std::string(text) + "'",
                      std::string(text));
}

inline std::string IpAddress::str() const {
    std::string out;
    if (family_ == IpFamily::v4) {
        detail::append_ipv4(out, static_cast<std::uint32_t>(value_.lo));
        return out;
    }
    if (is_v4_mapped()) {
        out = "::ffff:";
        detail::append_ipv4(out, static_cast<std::uint32_t>(value_.lo));
        return out;
    }
    unsigned g[8];
    for (int i = 0; i < 4; ++i) g[i] = static_cast<unsigned>((value_.hi >> (48 - 16 * i)) & 0xffff);
    for (int i = 0; i < 4; ++i) g[4 + i] = static_cast<unsigned>((value_.lo >> (48 - 16 * i)) & 0xffff);
    int best = -1, best_len = 1;  // a single zero group is not compressed (RFC 5952 4.2.2)
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0) ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j == i ? i + 1 : j;
    }
    for (int i = 0; i < 8; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        detail::append_hex_group(out, g[i]);
    }
    return out;
}

/// A closed interval of addresses of one family.
struct IpRange {
    IpAddress first;
    IpAddress last;
    friend bool operator==(const IpRange& a, const IpRange& b) { return a.first == b.first && a.last == b.last; }
    friend bool operator!=(const IpRange& a, const IpRange& b) { return !(a == b); }
};

}  // namespace cordon
