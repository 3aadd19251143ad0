// SPDX-License-Identifier: MIT
// cordon: one egress grant written as a command-line flag, CIDR[:PORT[-ENDPORT]][/tcp|/udp], as an MXC allow rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/cidr.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/error.hpp"

namespace cordon {

namespace detail {

// "443" or "8080-8090" -> a range of nonzero ports, or why not.
inline std::optional<std::string> parse_port_range(std::string_view text, std::uint16_t& first, std::uint16_t& last) {
    auto number = [](std::string_view s, std::uint16_t& out) -> bool {
        if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
        unsigned long v = std::stoul(std::string(s));
        if (v == 0 || v > 65535) return false;
        out = static_cast<std::uint16_t>(v);
        return true;
    };
    auto dash = text.find('-');
    if (!number(text.substr(0, dash), first)) return "a port is a number from 1 to 65535";
    last = first;
    if (dash == std::string_view::npos) return std::nullopt;
    if (!number(text.substr(dash + 1), last)) return "an end port is a number from 1 to 65535";
    if (last < first) return "the end port must not be below the port";
    return std::nullopt;
}

}  // namespace detail

/// Reads `CIDR[:PORT[-ENDPORT]][/tcp|/udp]` (`cordon run --egress`): `10.1.0.0/16:443/tcp`,
/// `192.0.2.7:8000-8100`, `198.51.100.0/24/udp`, `[2001:db8::7]:443`, `2001:db8::/32:443`. A bare
/// address is a /32 or /128 (as MXC reads it); an IPv6 address takes a port only with a prefix or in
/// brackets. Without a protocol a port means tcp and udp, and no port means every protocol.
/// Errors: invalid-policy naming the text and what is wrong, at `where`.
inline Result<EgressRule> parse_egress_flag(std::string_view text, const std::string& where) {
    auto fail = [&](const std::string& why) {
        return make_error(ErrorCode::invalid_policy,
                          "\"" + std::string(text) + "\": " + why +
                              " (expected CIDR[:PORT[-ENDPORT]][/tcp|/udp], e.g. 10.1.0.0/16:443/tcp)",
                          where);
    };
    std::string_view rest = text;
    Protocol protocol = Protocol::any;
    for (auto [suffix, p] : {std::pair{std::string_view("/tcp"), Protocol::tcp}, std::pair{std::string_view("/udp"), Protocol::udp}})
        if (rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix) {
            protocol = p;
            rest.remove_suffix(suffix.size());
        }
    std::string_view address = rest, ports;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return fail("a '[' without its ']'");
        address = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty() && after.front() != ':') return fail("only :PORT may follow ']'");
        ports = after.empty() ? after : after.substr(1);
        if (!after.empty() && ports.empty()) return fail("a ':' without a port");
    } else if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        auto end = rest.find(':', slash);
        address = rest.substr(0, end);
        if (end != std::string_view::npos) {
            ports = rest.substr(end + 1);
            if (ports.empty()) return fail("a ':' without a port");
        }
    } else if (auto colon = rest.find(':'); colon != std::string_view::npos && rest.find(':', colon + 1) == std::string_view::npos) {
        address = rest.substr(0, colon);  // one ':' is IPv4:PORT; more is an IPv6 address
        ports = rest.substr(colon + 1);
        if (ports.empty()) return fail("a ':' without a port");
    }
    auto block = Cidr::parse(address);
    if (!block) return fail("not an address or CIDR block: " + block.error().message);
    EgressRule rule{std::vector<Peer>{Peer{*block, {}}}, std::nullopt};
    if (!ports.empty()) {
        std::uint16_t first = 0, last = 0;
        if (auto why = detail::parse_port_range(ports, first, last)) return fail(*why);
        rule.ports = std::vector<PortSpec>{PortSpec::range(protocol, first, last)};
    } else if (protocol != Protocol::any) {
        rule.ports = std::vector<PortSpec>{PortSpec::all(protocol)};
    }
    if (Status s = check_rule(rule, where); !s) return fail(s.error().message);
    return rule;
}

}  // namespace cordon
