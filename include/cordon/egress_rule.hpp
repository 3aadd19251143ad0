// SPDX-License-Identifier: MIT
// cordon: the MXC 1.0 egress rule shape (Peer, PortSpec, EgressRule, Egress) with the executor's checks and wording.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/cidr.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// `ports[].protocol`. `any` (the default) with a port means tcp and udp on it; without a port it
/// means every IP protocol. `icmp` is ICMPv6 towards IPv6 destinations.
enum class Protocol : std::uint8_t { any, tcp, udp, icmp };

template <>
struct EnumNames<Protocol> {
    static constexpr std::array<EnumName<Protocol>, 4> table{{
        {"any", Protocol::any},
        {"tcp", Protocol::tcp},
        {"udp", Protocol::udp},
        {"icmp", Protocol::icmp},
    }};
};

/// One `ports` entry, normalised: `first == 0` means no port was given (every port), otherwise the
/// range first..last (`last == first` for a single port; the wire's `endPort` equal to `port` is the
/// same thing). Ports on the wire are nonzero, so port 0 is reachable only through "no port".
struct PortSpec {
    Protocol protocol = Protocol::any;
    std::uint16_t first = 0;
    std::uint16_t last = 0;

    constexpr bool has_port() const noexcept { return first != 0; }
    /// Every port of `p` (every protocol for `any`).
    static constexpr PortSpec all(Protocol p = Protocol::any) noexcept { return PortSpec{p, 0, 0}; }
    static constexpr PortSpec range(Protocol p, std::uint16_t first, std::uint16_t last) noexcept {
        return PortSpec{p, first, last};
    }
    static constexpr PortSpec single(Protocol p, std::uint16_t port) noexcept { return PortSpec{p, port, port}; }

    friend constexpr bool operator==(const PortSpec& a, const PortSpec& b) noexcept {
        return a.protocol == b.protocol && a.first == b.first && a.last == b.last;
    }
    friend constexpr bool operator!=(const PortSpec& a, const PortSpec& b) noexcept { return !(a == b); }
};

/// One `to` entry: a block minus the blocks in `except` (each inside `cidr`, same family as written).
struct Peer {
    Cidr cidr;
    std::vector<Cidr> except;
    friend bool operator==(const Peer& a, const Peer& b) { return a.cidr == b.cidr && a.except == b.except; }
    friend bool operator!=(const Peer& a, const Peer& b) { return !(a == b); }
};

/// One allow or deny rule. An absent list matches everything; a present list must not be empty
/// (the executor rejects `[]`, and cordon never reads an empty list as "everything").
struct EgressRule {
    std::optional<std::vector<Peer>> to;         ///< absent: every destination of both families
    std::optional<std::vector<PortSpec>> ports;  ///< absent: every port of every protocol
    friend bool operator==(const EgressRule& a, const EgressRule& b) { return a.to == b.to && a.ports == b.ports; }
    friend bool operator!=(const EgressRule& a, const EgressRule& b) { return !(a == b); }
};

/// `network.egress.default`. `deny` is the zero value.
enum class EgressDefault : std::uint8_t { deny, allow };

template <>
struct EnumNames<EgressDefault> {
    static constexpr std::array<EnumName<EgressDefault>, 2> table{{
        {"allow", EgressDefault::allow}, {"deny", EgressDefault::deny}}};
};

/// `network.egress`: what is allowed is (everything, if the default is allow, else the union of
/// `allow`) minus the union of `deny`; deny rules always win.
struct Egress {
    std::optional<EgressDefault> default_action;  ///< absent means deny
    std::vector<EgressRule> allow;
    std::vector<EgressRule> deny;

    EgressDefault effective_default() const noexcept { return default_action.value_or(EgressDefault::deny); }
    friend bool operator==(const Egress& a, const Egress& b) {
        return a.default_action == b.default_action && a.allow == b.allow && a.deny == b.deny;
    }
    friend bool operator!=(const Egress& a, const Egress& b) { return !(a == b); }
};

namespace detail {

/// The executor's spelling of a location: "/network/egress/allow/0/to/0" -> "network.egress.allow[0].to[0]".
inline std::string executor_path(std::string_view pointer) {
    std::string out;
    std::size_t i = pointer.empty() || pointer[0] != '/' ? 0 : 1;
    while (i <= pointer.size()) {
        std::size_t end = pointer.find('/', i);
        if (end == std::string_view::npos) end = pointer.size();
        std::string_view token = pointer.substr(i, end - i);
        bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
        if (index) out += "[" + std::string(token) + "]";
        else out += (out.empty() ? "" : ".") + std::string(token);
        i = end + 1;
    }
    return out;
}

inline Error egress_error(std::string message, std::string where) {
    return make_error(ErrorCode::invalid_policy, std::move(message), std::move(where));
}

inline Result<std::uint16_t> wire_port(std::int64_t value, std::string where) {
    if (value < 1 || value > 65535)
        return egress_error("invalid value: integer `" + std::to_string(value) + "`, expected a nonzero u16",
                            std::move(where));
    return static_cast<std::uint16_t>(value);
}

}  // namespace detail

/// Reads a `protocol` value. Errors: invalid-policy with the executor's wording
/// ("unknown variant `sctp`, expected one of `tcp`, `udp`, `icmp`, `any`"); names are case-sensitive.
inline Result<Protocol> parse_protocol(std::string_view text, std::string_view where) {
    for (Protocol p : {Protocol::tcp, Protocol::udp, Protocol::icmp, Protocol::any})
        if (text == to_string(p)) return p;
    return detail::egress_error(
        "unknown variant `" + std::string(text) + "`, expected one of `tcp`, `udp`, `icmp`, `any`", std::string(where));
}

/// Reads an `egress.default` value. Errors: invalid-policy with the executor's wording
/// ("unknown variant `block`, expected `allow` or `deny`").
inline Result<EgressDefault> parse_egress_default(std::string_view text, std::string_view where) {
    if (text == "allow") return EgressDefault::allow;
    if (text == "deny") return EgressDefault::deny;
    return detail::egress_error("unknown variant `" + std::string(text) + "`, expected `allow` or `deny`",
                                std::string(where));
}

/// One `to` entry from decoded JSON values, checked in the executor's order: `cidr` present and a
/// valid block, then every `except[k]` a valid block, then each inside `cidr`. `where` is the entry's JSON pointer
/// ("/network/egress/allow/0/to/0"). Errors: invalid-policy, with the executor's message (e.g.
/// "network.egress.allow[0].to[0].cidr must be a valid network CIDR: host part of address was not zero")
/// and `where` pointing at the offending value.
inline Result<Peer> make_peer(std::optional<std::string_view> cidr, const std::vector<std::string>& except,
                              std::string_view where) {
    std::string at(where);
    if (!cidr) return detail::egress_error("missing field `cidr`", at);
    std::string cidr_at = at + "/cidr";
    std::string cidr_path = detail::executor_path(cidr_at);
    Peer peer;
    std::string reason;
    if (!detail::parse_cidr_executor(*cidr, peer.cidr, reason))
        return detail::egress_error(cidr_path + " must be a valid network CIDR: " + reason, cidr_at);
    // All of `except` is parsed before any entry is checked against `cidr` (measured: with
    // ["11.0.0.0/8", "10.1.0.1/16"] the executor reports the host bits of except[1]).
    for (std::size_t k = 0; k < except.size(); ++k) {
        std::string ex_at = at + "/except/" + std::to_string(k);
        Cidr ex;
        if (!detail::parse_cidr_executor(except[k], ex, reason))
            return detail::egress_error(detail::executor_path(ex_at) + " must be a valid network CIDR: " + reason, ex_at);
        peer.except.push_back(ex);
    }
    for (std::size_t k = 0; k < peer.except.size(); ++k)
        if (!peer.cidr.contains(peer.except[k])) {
            std::string ex_at = at + "/except/" + std::to_string(k);
            return detail::egress_error(detail::executor_path(ex_at) + " must be contained within " + cidr_path, ex_at);
        }
    return peer;
}

/// One `ports` entry from decoded JSON values (`port`/`endPort` as the JSON integers they were, to
/// be range-checked here). Checks in the executor's order: first the values (nonzero u16, a known
/// protocol), then `endPort` needs `port`, `endPort >= port`, no ports with icmp. Errors:
/// invalid-policy with the executor's wording.
inline Result<PortSpec> make_port_spec(std::optional<std::int64_t> port, std::optional<std::int64_t> end_port,
                                       std::optional<std::string_view> protocol, std::string_view where) {
    std::string at(where);
    std::string path = detail::executor_path(at);
    PortSpec spec;
    if (port) {
        auto p = detail::wire_port(*port, at + "/port");
        if (!p) return p.error();
        spec.first = spec.last = *p;
    }
    std::uint16_t end = 0;
    if (end_port) {
        auto e = detail::wire_port(*end_port, at + "/endPort");
        if (!e) return e.error();
        end = *e;
    }
    if (protocol) {
        auto p = parse_protocol(*protocol, at + "/protocol");
        if (!p) return p.error();
        spec.protocol = *p;
    }
    if (end_port && !port) return detail::egress_error(path + ".endPort requires port", at + "/endPort");
    if (end_port && end < spec.first)
        return detail::egress_error(path + ".endPort must be greater than or equal to port", at + "/endPort");
    if (end_port) spec.last = end;
    if (spec.protocol == Protocol::icmp && spec.has_port())
        return detail::egress_error(path + " cannot specify port or endPort for protocol='icmp'", at);
    return spec;
}

/// Checks a rule built in code against what the executor would accept (non-empty lists, ordered
/// port ranges, no icmp ports, each `except` inside its `cidr`). `where` is the rule's JSON pointer.
inline Status check_rule(const EgressRule& rule, std::string_view where) {
    std::string at(where);
    if (rule.to && rule.to->empty()) return detail::egress_error("array must not be empty", at + "/to");
    if (rule.ports && rule.ports->empty()) return detail::egress_error("array must not be empty", at + "/ports");
    if (rule.to)
        for (std::size_t i = 0; i < rule.to->size(); ++i) {
            const Peer& peer = (*rule.to)[i];
            std::string peer_at = at + "/to/" + std::to_string(i);
            for (std::size_t k = 0; k < peer.except.size(); ++k)
                if (!peer.cidr.contains(peer.except[k])) {
                    std::string ex_at = peer_at + "/except/" + std::to_string(k);
                    return detail::egress_error(detail::executor_path(ex_at) + " must be contained within " +
                                                    detail::executor_path(peer_at + "/cidr"),
                                                ex_at);
                }
        }
    if (rule.ports)
        for (std::size_t i = 0; i < rule.ports->size(); ++i) {
            const PortSpec& p = (*rule.ports)[i];
            std::string port_at = at + "/ports/" + std::to_string(i);
            std::string path = detail::executor_path(port_at);
            if (!p.has_port() && p.last != 0)
                return detail::egress_error(path + ".endPort requires port", port_at + "/endPort");
            if (p.last < p.first)
                return detail::egress_error(path + ".endPort must be greater than or equal to port", port_at + "/endPort");
            if (p.protocol == Protocol::icmp && p.has_port())
                return detail::egress_error(path + " cannot specify port or endPort for protocol='icmp'", port_at);
        }
    return {};
}

/// check_rule() on every allow and deny rule. `where` is the egress object's JSON pointer.
inline Status check_egress(const Egress& egress, std::string_view where = "/network/egress") {
    for (std::size_t i = 0; i < egress.allow.size(); ++i)
        if (Status s = check_rule(egress.allow[i], std::string(where) + "/allow/" + std::to_string(i)); !s) return s;
    for (std::size_t i = 0; i < egress.deny.size(); ++i)
        if (Status s = check_rule(egress.deny[i], std::string(where) + "/deny/" + std::to_string(i)); !s) return s;
    return {};
}

/// Compact MXC JSON: {"port":443,"protocol":"tcp"}; `protocol` is left out when it is `any`.
inline std::string to_json(const PortSpec& p) {
    std::string out = "{";
    if (p.has_port()) {
        out += "\"port\":" + std::to_string(p.first);
        if (p.last != p.first) out += ",\"endPort\":" + std::to_string(p.last);
    }
    if (p.protocol != Protocol::any) {
        out += out.size() > 1 ? "," : "";
        out += "\"protocol\":\"" + std::string(to_string(p.protocol)) + "\"";
    }
    return out + "}";
}

/// Compact MXC JSON: {"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}.
inline std::string to_json(const Peer& p) {
    std::string out = "{\"cidr\":\"" + p.cidr.str() + "\"";
    if (!p.except.empty()) {
        out += ",\"except\":[";
        for (std::size_t i = 0; i < p.except.size(); ++i) out += (i ? ",\"" : "\"") + p.except[i].str() + "\"";
        out += "]";
    }
    return out + "}";
}

/// Compact MXC JSON of a rule, as the executor reads it (used for clamp reports).
inline std::string to_json(const EgressRule& r) {
    std::string out = "{";
    if (r.to) {
        out += "\"to\":[";
        for (std::size_t i = 0; i < r.to->size(); ++i) out += (i ? "," : "") + to_json((*r.to)[i]);
        out += "]";
    }
    if (r.ports) {
        out += out.size() > 1 ? ",\"ports\":[" : "\"ports\":[";
        for (std::size_t i = 0; i < r.ports->size(); ++i) out += (i ? "," : "") + to_json((*r.ports)[i]);
        out += "]";
    }
    return out + "}";
}

/// Compact MXC JSON of an egress object.
inline std::string to_json(const Egress& e) {
    std::string out = "{";
    auto list = [&out](const char* key, const std::vector<EgressRule>& rules) {
        if (rules.empty()) return;
        out += out.size() > 1 ? "," : "";
        out += "\"" + std::string(key) + "\":[";
        for (std::size_t i = 0; i < rules.size(); ++i) out += (i ? "," : "") + to_json(rules[i]);
        out += "]";
    };
    if (e.default_action) out += "\"default\":\"" + std::string(to_string(*e.default_action)) + "\"";
    list("allow", e.allow);
    list("deny", e.deny);
    return out + "}";
}

}  // namespace cordon
