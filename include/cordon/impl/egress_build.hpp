// SPDX-License-Identifier: MIT
// cordon: building an EgressSet from MXC egress rules (the executor's iptables semantics, as a set).
#pragma once

#include <algorithm>  // std::sort
#include <memory>
#include <new>  // std::bad_alloc
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/detail/json_pointer.hpp"
#include "cordon/egress_set.hpp"

namespace cordon {
namespace detail {

// Sorts and merges address spans that overlap or touch.
inline std::vector<AddressSpan> merge_address_spans(std::vector<AddressSpan> spans) {
    std::sort(spans.begin(), spans.end(), [](const AddressSpan& a, const AddressSpan& b) { return a.first < b.first; });
    std::vector<AddressSpan> out;
    for (const AddressSpan& s : spans) {
        if (!out.empty() && (s.first <= out.back().last || (out.back().last != (Uint128::max)() &&
                                                             s.first == out.back().last.next()))) {
            if (s.last > out.back().last) out.back().last = s.last;
            continue;
        }
        out.push_back(s);
    }
    return out;
}

// A peer's addresses: its block minus its except blocks (the executor's "covering complement").
inline void append_peer_spans(const Peer& peer, std::vector<AddressSpan>& out) {
    std::vector<AddressSpan> holes;
    for (const Cidr& c : peer.except) holes.push_back(unified(c));
    holes = merge_address_spans(std::move(holes));
    AddressSpan whole = unified(peer.cidr);
    Uint128 cursor = whole.first;
    for (const AddressSpan& h : holes) {
        if (h.first > cursor) out.push_back({cursor, h.first.prev()});
        if (h.last >= whole.last) return;
        cursor = h.last.next();
    }
    out.push_back({cursor, whole.last});
}

// Ports and protocols of one `ports` entry on the service axis. "any" with a port is tcp and udp
// on it; "any" without one is every protocol (no -p in the executor's iptables rule).
inline void append_port_spans(const PortSpec& p, std::vector<Span>& out) {
    std::uint32_t first = p.has_port() ? p.first : 0;
    std::uint32_t last = p.has_port() ? p.last : 65535;
    switch (p.protocol) {
        case Protocol::any:
            if (!p.has_port()) {
                out.push_back({0, service_max});
                return;
            }
            out.push_back({first, last});
            out.push_back({udp_base + first, udp_base + last});
            return;
        case Protocol::tcp: out.push_back({first, last}); return;
        case Protocol::udp: out.push_back({udp_base + first, udp_base + last}); return;
        case Protocol::icmp: out.push_back({icmp_service, icmp_service}); return;
    }
}

inline Error egress_too_complex(std::string_view where) {
    return make_error(ErrorCode::invalid_policy,
                      "the egress rules are too complex to compare (their combined form exceeds " +
                          std::to_string(egress_span_limit) + " address/port pieces)",
                      std::string(where));
}

}  // namespace detail

CORDON_FUNC Result<EgressSet> EgressSet::from_rule(const EgressRule& rule, std::string_view where) {
    if (Status s = check_rule(rule, where); !s) return s.error();
    std::vector<detail::AddressSpan> addresses;
    if (!rule.to) addresses.push_back({Uint128{}, (Uint128::max)()});  // both families, ::/0 and 0.0.0.0/0
    else
        for (std::size_t i = 0; i < rule.to->size(); ++i) {
            const Peer& peer = (*rule.to)[i];
            if (detail::straddles_mapped(peer.cidr))
                return make_error(ErrorCode::invalid_policy,
                                  "network rule '" + peer.cidr.str() +
                                      "' is an IPv6 block shorter than /96 that contains the IPv4-mapped range "
                                      "'::ffff:0:0/96'; the executor refuses it because IPv4 packets never match an "
                                      "ip6tables rule. Write the IPv4 side explicitly (e.g. 0.0.0.0/0) and narrow the "
                                      "IPv6 block",
                                  std::string(where) + "/to/" + std::to_string(i) + "/cidr");
            detail::append_peer_spans(peer, addresses);
        }
    addresses = detail::merge_address_spans(std::move(addresses));
    detail::SpanSetPtr services = all_services();
    if (rule.ports) {
        std::vector<detail::Span> spans;
        for (const PortSpec& p : *rule.ports) detail::append_port_spans(p, spans);
        services = std::make_shared<const detail::SpanSet>(detail::span_normalize(std::move(spans)));
    }
    EgressSet out;
    if (services->empty()) return out;
    for (const auto& a : addresses) out.slabs_.push_back({a.first, a.last, services});  // one shared service set
    return out;
}

// Unions by rounds of pairs (a balanced tree): each rule's pieces are merged O(log n) times,
// never once per other rule.
CORDON_FUNC Result<EgressSet> EgressSet::from_rules(const std::vector<EgressRule>& rules, std::string_view where) {
    try {
        std::vector<EgressSet> level;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            auto s = from_rule(rules[i], detail::pointer_child(where, i));
            if (!s) return s.error();
            if (!s->empty()) level.push_back(std::move(*s));
        }
        while (level.size() > 1) {
            std::vector<EgressSet> next;
            for (std::size_t k = 0; k + 1 < level.size(); k += 2) {
                next.push_back(level[k] | level[k + 1]);
                if (next.back().stored_size() > detail::egress_span_limit) return detail::egress_too_complex(where);
            }
            if (level.size() % 2) next.push_back(std::move(level.back()));
            level = std::move(next);
        }
        return level.empty() ? EgressSet{} : std::move(level[0]);
    } catch (const std::bad_alloc&) {
        return detail::egress_too_complex(where);
    }
}

CORDON_FUNC Result<EgressSet> EgressSet::from_egress(const Egress& egress, std::string_view where) {
    auto allow = from_rules(egress.allow, std::string(where) + "/allow");
    if (!allow) return allow.error();
    auto deny = from_rules(egress.deny, std::string(where) + "/deny");
    if (!deny) return deny.error();
    try {
        if (egress.effective_default() == EgressDefault::allow) return everything() - *deny;
        return *allow - *deny;
    } catch (const std::bad_alloc&) {
        return detail::egress_too_complex(where);
    }
}

}  // namespace cordon
