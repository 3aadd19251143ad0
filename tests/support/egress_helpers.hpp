// SPDX-License-Identifier: MIT
// Test support: reading MXC egress JSON with cordon's rule checks, and a rule-by-rule reference evaluator of the executor's semantics.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/egress_rule.hpp"
#include "cordon/egress_set.hpp"

namespace cordon::test {

// What the lead's decoder will do with the shape (types, unknown keys are its business, ignored
// here); every value check is cordon's (make_peer, make_port_spec, parse_protocol, ...).
class EgressReader {
public:
    Result<Egress> read(const boost::json::value& v, const std::string& at) {
        Egress e;
        const auto& obj = v.as_object();
        if (const auto* d = obj.if_contains("default")) {
            auto parsed = parse_egress_default(std::string_view(d->as_string()), at + "/default");
            if (!parsed) return parsed.error();
            e.default_action = *parsed;
        }
        for (const char* key : {"allow", "deny"}) {
            const auto* list = obj.if_contains(key);
            if (!list) continue;
            const auto& arr = list->as_array();
            for (std::size_t i = 0; i < arr.size(); ++i) {
                auto rule = read_rule(arr[i], at + "/" + key + "/" + std::to_string(i));
                if (!rule) return rule.error();
                (std::string_view(key) == "allow" ? e.allow : e.deny).push_back(*rule);
            }
        }
        return e;
    }

private:
    Result<EgressRule> read_rule(const boost::json::value& v, const std::string& at) {
        EgressRule r;
        const auto& obj = v.as_object();
        if (const auto* to = obj.if_contains("to")) {
            if (to->as_array().empty()) return make_error(ErrorCode::invalid_policy, "array must not be empty", at + "/to");
            r.to.emplace();
            for (std::size_t i = 0; i < to->as_array().size(); ++i) {
                const auto& peer = to->as_array()[i].as_object();
                std::optional<std::string_view> cidr;
                if (const auto* c = peer.if_contains("cidr")) cidr = std::string_view(c->as_string());
                std::vector<std::string> except;
                if (const auto* ex = peer.if_contains("except"))
                    for (const auto& x : ex->as_array()) except.emplace_back(x.as_string());
                auto p = make_peer(cidr, except, at + "/to/" + std::to_string(i));
                if (!p) return p.error();
                r.to->push_back(*p);
            }
        }
        if (const auto* ports = obj.if_contains("ports")) {
            if (ports->as_array().empty())
                return make_error(ErrorCode::invalid_policy, "array must not be empty", at + "/ports");
            r.ports.emplace();
            for (std::size_t i = 0; i < ports->as_array().size(); ++i) {
                const auto& port = ports->as_array()[i].as_object();
                auto number = [&](const char* key) -> std::optional<std::int64_t> {
                    const auto* n = port.if_contains(key);
                    return n ? std::optional<std::int64_t>(n->as_int64()) : std::nullopt;
                };
                std::optional<std::string_view> protocol;
                if (const auto* p = port.if_contains("protocol")) protocol = std::string_view(p->as_string());
                auto spec = make_port_spec(number("port"), number("endPort"), protocol, at + "/ports/" + std::to_string(i));
                if (!spec) return spec.error();
                r.ports->push_back(*spec);
            }
        }
        return r;
    }
};

inline Result<Egress> egress_from_json(std::string_view json) {
    return EgressReader().read(boost::json::parse(json), "/network/egress");
}

/// The egress section of `json`, which must be valid.
inline Egress egress_of(std::string_view json) {
    auto e = egress_from_json(json);
    REQUIRE_MESSAGE(e.has_value(), std::string(json) << " -> " << (e ? std::string() : e.error().to_string()));
    return *e;
}

inline EgressSet set_of(const Egress& e) {
    auto s = EgressSet::from_egress(e);
    REQUIRE_MESSAGE(s.has_value(), to_json(e) << " -> " << (s ? std::string() : s.error().to_string()));
    return *s;
}

inline EgressSet set_of(std::string_view json) { return set_of(egress_of(json)); }

inline Packet packet(std::string_view address, Transport t = Transport::tcp, std::uint16_t port = 0) {
    auto a = IpAddress::parse(address);
    REQUIRE_MESSAGE(a.has_value(), address);
    return Packet{*a, t, port};
}

// The reference semantics, rule by rule as the executor's iptables chain reads them: any matching
// deny rule drops, then the default allow or any matching allow rule accepts. Written from the rule
// shape only (no EgressSet code), so that it can disagree with the set algebra.
inline bool peer_matches(const Peer& peer, const IpAddress& destination) {
    IpAddress d = destination.unmapped();
    auto in = [&d](const Cidr& c) { return c.unmapped().contains(d); };
    if (!in(peer.cidr)) return false;
    for (const Cidr& ex : peer.except)
        if (in(ex)) return false;
    return true;
}

inline bool port_matches(const PortSpec& spec, const Packet& p) {
    bool in_range = !spec.has_port() || (p.port >= spec.first && p.port <= spec.last);
    switch (spec.protocol) {
        case Protocol::any:
            if (!spec.has_port()) return true;  // no -p: every protocol
            return (p.transport == Transport::tcp || p.transport == Transport::udp) && in_range;
        case Protocol::tcp: return p.transport == Transport::tcp && in_range;
        case Protocol::udp: return p.transport == Transport::udp && in_range;
        case Protocol::icmp: return p.transport == Transport::icmp;
    }
    return false;
}

inline bool rule_matches(const EgressRule& r, const Packet& p) {
    bool to = !r.to;
    if (r.to)
        for (const Peer& peer : *r.to) to = to || peer_matches(peer, p.destination);
    bool ports = !r.ports;
    if (r.ports)
        for (const PortSpec& s : *r.ports) ports = ports || port_matches(s, p);
    return to && ports;
}

inline bool naive_admits(const Egress& e, const Packet& p) {
    for (const EgressRule& r : e.deny)
        if (rule_matches(r, p)) return false;
    if (e.effective_default() == EgressDefault::allow) return true;
    for (const EgressRule& r : e.allow)
        if (rule_matches(r, p)) return true;
    return false;
}

}  // namespace cordon::test
