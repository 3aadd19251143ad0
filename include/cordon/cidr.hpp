// SPDX-License-Identifier: MIT
// cordon: CIDR blocks, parsed with the MXC executor's rules and wording, containment, and minimal CIDR covers of address ranges.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/ip_address.hpp"

namespace cordon {

/// A network: an address with all host bits zero and a prefix length. A bare address is a /32 or
/// /128. IPv4-mapped IPv6 blocks stay IPv6 as written; unmapped() gives the executor's IPv4 rule.
class Cidr {
public:
    constexpr Cidr() noexcept = default;  ///< 0.0.0.0/0

    /// Parses `text` as the executor does (crate `cidr` 0.3 `IpCidr::from_str` over Rust's strict
    /// address parser): "ADDRESS" or "ADDRESS/LENGTH", split at the last '/'. LENGTH is a Rust u8
    /// (so "+8" and "08" are 8). Errors: invalid-policy naming the text and what is wrong
    /// (unparsable address or length, length too long for the family, host bits set).
    static Result<Cidr> parse(std::string_view text);

    /// The block `network`/`prefix`. Errors: invalid-policy when the prefix is too long for the
    /// family or host bits are set.
    static Result<Cidr> make(IpAddress network, unsigned prefix);

    /// The single-address block of `a`.
    static constexpr Cidr host(IpAddress a) noexcept {
        return Cidr(a, static_cast<std::uint8_t>(address_bits(a.family())));
    }

    constexpr IpFamily family() const noexcept { return network_.family(); }
    constexpr IpAddress network() const noexcept { return network_; }
    constexpr unsigned prefix() const noexcept { return prefix_; }
    constexpr IpAddress first() const noexcept { return network_; }
    constexpr IpAddress last() const noexcept {
        Uint128 v = network_.value() | host_mask();
        return family() == IpFamily::v4 ? IpAddress::v4(static_cast<std::uint32_t>(v.lo)) : IpAddress::v6(v);
    }
    constexpr IpRange range() const noexcept { return {first(), last()}; }

    /// Same family and inside the block. An IPv4 address is never inside an IPv6 block, mapped or not.
    constexpr bool contains(IpAddress a) const noexcept {
        return a.family() == family() && (a.value() & ~host_mask()) == network_.value();
    }
    /// `other` lies entirely inside this block (same family; equal blocks contain each other).
    constexpr bool contains(const Cidr& other) const noexcept {
        return other.prefix_ >= prefix_ && contains(other.network_);
    }

    /// An IPv6 block inside ::ffff:0:0/96, which the executor turns into an IPv4 rule.
    constexpr bool is_v4_mapped() const noexcept { return prefix_ >= 96 && network_.is_v4_mapped(); }
    /// The IPv4 block of an IPv4-mapped one (::ffff:198.51.100.0/120 -> 198.51.100.0/24), else itself.
    constexpr Cidr unmapped() const noexcept {
        return is_v4_mapped() ? Cidr(network_.unmapped(), static_cast<std::uint8_t>(prefix_ - 96)) : *this;
    }

    /// "ADDRESS/LENGTH" with the canonical address text (always with the length).
    std::string str() const { return network_.str() + "/" + std::to_string(prefix_); }

    friend constexpr bool operator==(const Cidr& a, const Cidr& b) noexcept {
        return a.network_ == b.network_ && a.prefix_ == b.prefix_;
    }
    friend constexpr bool operator!=(const Cidr& a, const Cidr& b) noexcept { return !(a == b); }
    /// By family, then network address, then prefix (wider first).
    friend constexpr bool operator<(const Cidr& a, const Cidr& b) noexcept {
        return a.network_ != b.network_ ? a.network_ < b.network_ : a.prefix_ < b.prefix_;
    }

private:
    constexpr Cidr(IpAddress network, std::uint8_t prefix) noexcept : network_(network), prefix_(prefix) {}
    constexpr Uint128 host_mask() const noexcept { return Uint128::low_mask(address_bits(family()) - prefix_); }

    IpAddress network_;
    std::uint8_t prefix_ = 0;
};

namespace detail {

// Rust's u8::from_str: an optional '+', then decimal digits; the reasons are Rust's ParseIntError texts.
inline bool parse_rust_u8(std::string_view s, unsigned& out, std::string& reason) {
    if (s.empty()) {
        reason = "cannot parse integer from empty string";
        return false;
    }
    if (s[0] == '+' && s.size() > 1) s.remove_prefix(1);
    unsigned value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            reason = "invalid digit found in string";
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
        if (value > 255) {
            reason = "number too large to fit in target type";
            return false;
        }
    }
    out = value;
    return true;
}

/// Parses `text` like the executor; on failure `reason` is the executor's wording after
/// "must be a valid network CIDR: " (crate `cidr` 0.3 NetworkParseError).
inline bool parse_cidr_executor(std::string_view text, Cidr& out, std::string& reason) {
    std::size_t slash = text.rfind('/');
    auto address = IpAddress::parse(slash == std::string_view::npos ? text : text.substr(0, slash));
    if (!address) {
        reason = "couldn't parse address in network: invalid IP address syntax";
        return false;
    }
    unsigned bits = address_bits(address->family());
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        std::string why;
        if (!parse_rust_u8(text.substr(slash + 1), prefix, why)) {
            reason = "couldn't parse length in network: " + why;
            return false;
        }
    }
    if (prefix > bits) {
        reason = "invalid length for network: Network length " + std::to_string(prefix) + " is too long for " +
                 (address->family() == IpFamily::v4 ? "Ipv4" : "Ipv6") + " (maximum: " + std::to_string(bits) + ")";
        return false;
    }
    auto cidr = Cidr::make(*address, prefix);
    if (!cidr) {
        reason = "host part of address was not zero";
        return false;
    }
    out = *cidr;
    return true;
}

}  // namespace detail

inline Result<Cidr> Cidr::make(IpAddress network, unsigned prefix) {
    unsigned bits = address_bits(network.family());
    if (prefix > bits)
        return make_error(ErrorCode::invalid_policy,
                          "prefix length " + std::to_string(prefix) + " is too long for " +
                              std::string(to_string(network.family())) + " (maximum " + std::to_string(bits) + ")");
    Cidr c(network, static_cast<std::uint8_t>(prefix));
    if ((network.value() & c.host_mask()) != Uint128{}) {
        Cidr masked(network.family() == IpFamily::v4
                        ? IpAddress::v4(static_cast<std::uint32_t>((network.value() & ~c.host_mask()).lo))
                        : IpAddress::v6(network.value() & ~c.host_mask()),
                    static_cast<std::uint8_t>(prefix));
        return make_error(ErrorCode::invalid_policy, "host bits of " + network.str() + "/" + std::to_string(prefix) +
                                                         " are set (the network is " + masked.str() + ")");
    }
    return c;
}

inline Result<Cidr> Cidr::parse(std::string_view text) {
    Cidr out;
    std::string reason;
    if (detail::parse_cidr_executor(text, out, reason)) return out;
    return make_error(ErrorCode::invalid_policy, "'" + std::string(text) + "' is not a valid network CIDR: " + reason,
                      std::string(text));
}

namespace detail {

// The largest aligned block starting at `first` that ends at or before `last` (first <= last),
// as a host-bit count in 0..width.
inline unsigned cover_block_bits(Uint128 first, Uint128 last, unsigned width) noexcept {
    unsigned align = first.trailing_zeros();
    if (align > width) align = width;
    Uint128 span = last - first;  // block size - 1, no overflow
    unsigned fit = (span.next() == Uint128{}) ? 128 : span.next().bit_width() - 1;
    return align < fit ? align : fit;
}

// Minimal CIDR cover of [first, last] in a space of `width` bits, appended as (start, host bits).
template <class Emit>
void cover_range(Uint128 first, Uint128 last, unsigned width, Emit&& emit) {
    for (;;) {
        unsigned k = cover_block_bits(first, last, width);
        Uint128 end = first + Uint128::low_mask(k);
        emit(first, k);
        if (end == last) return;
        first = end.next();
    }
}

}  // namespace detail

/// The fewest CIDR blocks whose union is exactly [range.first, range.last], in address order.
/// An empty list when the range is reversed or mixes families.
inline std::vector<Cidr> cidr_cover(const IpRange& range) {
    std::vector<Cidr> out;
    IpFamily f = range.first.family();
    if (f != range.last.family() || range.last.value() < range.first.value()) return out;
    unsigned width = address_bits(f);
    detail::cover_range(range.first.value(), range.last.value(), width, [&](Uint128 start, unsigned k) {
        IpAddress a = f == IpFamily::v4 ? IpAddress::v4(static_cast<std::uint32_t>(start.lo)) : IpAddress::v6(start);
        if (auto c = Cidr::make(a, width - k)) out.push_back(*c);  // always valid: the block is aligned
    });
    return out;
}

}  // namespace cordon
