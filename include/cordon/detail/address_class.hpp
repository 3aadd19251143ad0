// SPDX-License-Identifier: MIT
// cordon: what kind of destination an IPv4/IPv6 address is (loopback, private, metadata, ...), so the proxy can refuse internal ones.
#pragma once

// A minimal, self-contained address type for the proxy's destination checks, written in parallel
// with cordon::IpAddress / cordon::Cidr (ip_address.hpp, cidr.hpp, which parse exactly as lxc-exec
// does); the two are to be unified. Parsing and printing are written out here rather than taken
// from inet_pton/inet_ntop, so this header needs no socket headers or libraries (ws2_32 on Windows).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

struct IpAddr {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 uses the first four

    static IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
        IpAddr ip;
        ip.bytes[0] = a, ip.bytes[1] = b, ip.bytes[2] = c, ip.bytes[3] = d;
        return ip;
    }

    /// Dotted-quad IPv4 (no leading zeros) or RFC 4291 IPv6 text (no brackets, no zone), or nullopt.
    static std::optional<IpAddr> parse(std::string_view text) {
        IpAddr ip;
        if (text.find(':') == std::string_view::npos) {
            if (!parse_v4(text, ip.bytes.data())) return std::nullopt;
            return ip;
        }
        ip.v6 = true;
        if (!parse_v6(text, ip.bytes)) return std::nullopt;
        return ip;
    }

    /// RFC 5952 text: lower-case, zeros compressed; IPv4-mapped addresses as ::ffff:a.b.c.d.
    std::string to_string() const {
        auto dotted = [](const std::uint8_t* b) {
            return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]);
        };
        if (!v6) return dotted(bytes.data());
        std::uint16_t g[8];
        for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
        if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) return "::ffff:" + dotted(&bytes[12]);
        int best = -1, best_len = 1;  // the longest run of two or more zero groups, the first on a tie
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && g[j] == 0) ++j;
            if (j - i > best_len) best = i, best_len = j - i;
            i = j == i ? i + 1 : j;
        }
        static const char hex[] = "0123456789abcdef";
        std::string out;
        for (int i = 0; i < 8; ++i) {
            if (i == best) {
                out += "::";
                i += best_len - 1;
                continue;
            }
            if (!out.empty() && out.back() != ':') out += ':';
            bool started = false;
            for (int shift = 12; shift >= 0; shift -= 4) {
                int d = (g[i] >> shift) & 15;
                if (d || started || shift == 0) out += hex[d], started = true;
            }
        }
        return out;
    }

    std::uint32_t v4_value() const noexcept {
        return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
               std::uint32_t{bytes[3]};
    }

    friend bool operator==(const IpAddr& a, const IpAddr& b) noexcept { return a.v6 == b.v6 && a.bytes == b.bytes; }
    friend bool operator!=(const IpAddr& a, const IpAddr& b) noexcept { return !(a == b); }

private:
    static bool parse_v4(std::string_view s, std::uint8_t* out) {
        int part = 0;
        std::size_t i = 0;
        for (; part < 4; ++part) {
            if (part > 0) {
                if (i >= s.size() || s[i] != '.') return false;
                ++i;
            }
            std::size_t start = i;
            unsigned v = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
            std::size_t len = i - start;
            if (len == 0 || v > 255 || (len > 1 && s[start] == '0')) return false;
            out[part] = static_cast<std::uint8_t>(v);
        }
        return i == s.size();
    }

    static int hex_value(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // Groups before and after one "::"; the last piece may be a dotted IPv4 address.
    static bool parse_v6(std::string_view s, std::array<std::uint8_t, 16>& out) {
        if (s.size() > 45) return false;
        std::uint16_t head[8], tail[8];
        int nh = 0, nt = 0;
        bool gap = false;
        std::size_t i = 0;
        if (s.substr(0, 2) == "::") {
            gap = true;
            i = 2;
        } else if (!s.empty() && s[0] == ':') {
            return false;
        }
        while (i < s.size()) {
            std::size_t start = i;
            unsigned v = 0;
            while (i < s.size() && hex_value(s[i]) >= 0 && i - start < 4) v = v * 16 + static_cast<unsigned>(hex_value(s[i++]));
            bool dotted = i < s.size() && s[i] == '.';
            if (dotted) {  // the final 32 bits as a.b.c.d
                std::uint8_t b[4];
                if ((gap ? nt : nh) > 6 || !parse_v4(s.substr(start), b)) return false;
                std::uint16_t* list = gap ? tail : head;
                int& n = gap ? nt : nh;
                list[n++] = static_cast<std::uint16_t>(b[0] << 8 | b[1]);
                list[n++] = static_cast<std::uint16_t>(b[2] << 8 | b[3]);
                i = s.size();
                break;
            }
            if (i == start || (gap ? nt : nh) >= 8) return false;
            (gap ? tail[nt++] : head[nh++]) = static_cast<std::uint16_t>(v);
            if (i == s.size()) break;
            if (s[i] != ':') return false;
            ++i;
            if (i < s.size() && s[i] == ':') {
                if (gap) return false;  // a second "::"
                gap = true;
                ++i;
            } else if (i == s.size()) {
                return false;  // a trailing single ':'
            }
        }
        if (gap ? nh + nt > 7 : nh != 8) return false;
        std::uint16_t g[8] = {};
        for (int k = 0; k < nh; ++k) g[k] = head[k];
        for (int k = 0; k < nt; ++k) g[8 - nt + k] = tail[k];
        for (int k = 0; k < 8; ++k) {
            out[static_cast<std::size_t>(2 * k)] = static_cast<std::uint8_t>(g[k] >> 8);
            out[static_cast<std::size_t>(2 * k + 1)] = static_cast<std::uint8_t>(g[k] & 0xff);
        }
        return true;
    }
};

/// An address block `base/prefix`.
struct IpBlock {
    IpAddr base;
    unsigned prefix = 0;

    /// `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Host bits must be zero.
    /// Errors: invalid_policy.
    static Result<IpBlock> parse(std::string_view text) {
        auto fail = [&](const std::string& why) {
            return make_error(ErrorCode::invalid_policy, "address block \"" + std::string(text) + "\" " + why);
        };
        auto slash = text.find('/');
        auto ip = IpAddr::parse(text.substr(0, slash));
        if (!ip) return fail("is not an IPv4 or IPv6 address (optionally /PREFIX)");
        unsigned max = ip->v6 ? 128 : 32;
        IpBlock n{*ip, max};
        if (slash != std::string_view::npos) {
            std::string_view digits = text.substr(slash + 1);
            if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
                return fail("has a bad prefix length");
            unsigned v = 0;
            for (char c : digits) {
                if (c < '0' || c > '9') return fail("has a bad prefix length");
                v = v * 10 + static_cast<unsigned>(c - '0');
            }
            if (v > max) return fail("has a prefix longer than " + std::to_string(max));
            n.prefix = v;
        }
        IpBlock masked = n;
        masked.clear_host_bits();
        if (masked.base != n.base) return fail("has host bits set (write " + masked.to_string() + ")");
        return n;
    }

    bool contains(const IpAddr& ip) const noexcept {
        if (ip.v6 != base.v6) return false;
        unsigned full = prefix / 8, rest = prefix % 8;
        for (unsigned i = 0; i < full; ++i)
            if (ip.bytes[i] != base.bytes[i]) return false;
        if (rest == 0) return true;
        auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
        return (ip.bytes[full] & mask) == (base.bytes[full] & mask);
    }

    std::string to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

private:
    void clear_host_bits() noexcept {
        for (unsigned bit = prefix; bit < (base.v6 ? 128u : 32u); ++bit)
            base.bytes[bit / 8] = static_cast<std::uint8_t>(base.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    }
};

/// Kinds of destination. Only `global` and `documentation` are reachable through the proxy by
/// default: documentation blocks (RFC 5737, RFC 3849) are never routed on the internet and are what
/// test labs use; every other kind is internal to the host, its networks or its cloud.
enum class AddressClass : std::uint8_t {
    global,
    documentation,  ///< 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
    loopback,       ///< 127/8, ::1
    private_net,    ///< RFC 1918, ULA fc00::/7, site-local fec0::/10, local NAT64 64:ff9b:1::/48
    link_local,     ///< 169.254/16, fe80::/10
    shared,         ///< carrier-grade NAT 100.64/10 (RFC 6598)
    metadata,       ///< cloud metadata and host agents: 169.254.169.254, fd00:ec2::254, 100.100.100.200, 168.63.129.16
    unspecified,    ///< 0/8, :: (connecting to 0.0.0.0 reaches the host itself)
    multicast,      ///< 224/4, ff00::/8
    broadcast,      ///< 255.255.255.255
    reserved,       ///< 240/4, 192.0.0/24, benchmarking 198.18/15, 100::/64
    host_own,       ///< an address of one of this host's interfaces
};

}  // namespace cordon::detail

namespace cordon {
template <>
struct EnumNames<detail::AddressClass> {
    static constexpr std::array<EnumName<detail::AddressClass>, 12> table{{
        {"global", detail::AddressClass::global},
        {"documentation", detail::AddressClass::documentation},
        {"loopback", detail::AddressClass::loopback},
        {"private", detail::AddressClass::private_net},
        {"link-local", detail::AddressClass::link_local},
        {"carrier-grade-nat", detail::AddressClass::shared},
        {"cloud-metadata", detail::AddressClass::metadata},
        {"unspecified", detail::AddressClass::unspecified},
        {"multicast", detail::AddressClass::multicast},
        {"broadcast", detail::AddressClass::broadcast},
        {"reserved", detail::AddressClass::reserved},
        {"this-host", detail::AddressClass::host_own},
    }};
};
}  // namespace cordon

namespace cordon::detail {

using cordon::to_string;  // the EnumNames names, for ADL on this namespace's enums

/// Whether the proxy refuses this kind unless the operator named the address.
constexpr bool is_internal(AddressClass c) noexcept {
    return c != AddressClass::global && c != AddressClass::documentation;
}

/// The IPv4 address an IPv6 address stands for, when it embeds one that the network would reach:
/// IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 (RFC 6052) and 6to4 2002::/16.
inline std::optional<IpAddr> embedded_v4(const IpAddr& ip) noexcept {
    if (!ip.v6) return std::nullopt;
    const auto& b = ip.bytes;
    auto zero = [&](int from, int to) {
        for (int i = from; i < to; ++i)
            if (b[static_cast<std::size_t>(i)] != 0) return false;
        return true;
    };
    if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return IpAddr::v4(b[12], b[13], b[14], b[15]);
    if (zero(0, 12) && !(zero(12, 15) && b[15] <= 1)) return IpAddr::v4(b[12], b[13], b[14], b[15]);  // not :: or ::1
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(4, 12))
        return IpAddr::v4(b[12], b[13], b[14], b[15]);
    if (b[0] == 0x20 && b[1] == 0x02) return IpAddr::v4(b[2], b[3], b[4], b[5]);
    return std::nullopt;
}

inline AddressClass classify_v4(const IpAddr& ip) noexcept {
    std::uint32_t a = ip.v4_value();
    auto in = [a](std::uint32_t net, unsigned prefix) {
        std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
        return (a & mask) == net;
    };
    if (a == 0xa9fea9feu || a == 0x646464c8u || a == 0xa83f8110u) return AddressClass::metadata;
    if (in(0x00000000u, 8)) return AddressClass::unspecified;
    if (in(0x7f000000u, 8)) return AddressClass::loopback;
    if (in(0x0a000000u, 8) || in(0xac100000u, 12) || in(0xc0a80000u, 16)) return AddressClass::private_net;
    if (in(0xa9fe0000u, 16)) return AddressClass::link_local;
    if (in(0x64400000u, 10)) return AddressClass::shared;
    if (a == 0xffffffffu) return AddressClass::broadcast;
    if (in(0xe0000000u, 4)) return AddressClass::multicast;
    if (in(0xf0000000u, 4) || in(0xc0000000u, 24) || in(0xc6120000u, 15)) return AddressClass::reserved;
    if (in(0xc0000200u, 24) || in(0xc6336400u, 24) || in(0xcb007100u, 24)) return AddressClass::documentation;
    return AddressClass::global;
}

inline AddressClass classify_v6(const IpAddr& ip) noexcept {
    const auto& b = ip.bytes;
    static constexpr std::array<std::uint8_t, 16> aws_metadata{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    if (b == aws_metadata) return AddressClass::metadata;
    bool zero15 = true;
    for (int i = 0; i < 15; ++i) zero15 = zero15 && b[static_cast<std::size_t>(i)] == 0;
    if (zero15 && b[15] == 0) return AddressClass::unspecified;
    if (zero15 && b[15] == 1) return AddressClass::loopback;
    if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_net;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::private_net;
    if (b[0] == 0xff) return AddressClass::multicast;
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
        return AddressClass::private_net;
    bool discard = b[0] == 0x01 && b[1] == 0x00;
    for (int i = 2; i < 8; ++i) discard = discard && b[static_cast<std::size_t>(i)] == 0;
    if (discard) return AddressClass::reserved;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressClass::documentation;
    return AddressClass::global;
}

/// The kind of destination `ip` is. An IPv6 address that embeds an IPv4 one is the kind of that
/// IPv4 address. `own` lists this host's interface addresses (host_own wins over global).
inline AddressClass classify(const IpAddr& ip, const std::vector<IpAddr>& own = {}) noexcept {
    AddressClass c = AddressClass::global;
    if (!ip.v6) c = classify_v4(ip);
    else if (auto v4 = embedded_v4(ip)) return classify(*v4, own);
    else c = classify_v6(ip);
    if (!is_internal(c))
        for (const auto& o : own)
            if (o == ip) return AddressClass::host_own;
    return c;
}

/// Whether `ip` (or the IPv4 address it embeds) lies in one of `blocks`.
inline bool in_any(const IpAddr& ip, const std::vector<IpBlock>& blocks) noexcept {
    auto v4 = embedded_v4(ip);
    for (const auto& n : blocks)
        if (n.contains(ip) || (v4 && n.contains(*v4))) return true;
    return false;
}

}  // namespace cordon::detail
