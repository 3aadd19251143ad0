// SPDX-License-Identifier: MIT
// cordon: writing an EgressSet back as a compact MXC egress section (allow minus deny, per address run).
#pragma once

#include <algorithm>  // std::sort
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "cordon/detail/peer_cover.hpp"
#include "cordon/detail/span_set.hpp"
#include "cordon/egress_set.hpp"

namespace cordon {
namespace detail {

// The services of one address run split by protocol (ports 0..65535 for tcp and udp).
struct ServiceCell {
    SpanSet tcp;
    SpanSet udp;
    bool icmp = false;
    bool other = false;
};

inline ServiceCell split_services(const SpanSet& s) {
    ServiceCell c;
    for (const Span& sp : s) {
        if (sp.first <= 65535) c.tcp.push_back({sp.first, std::min<std::uint32_t>(sp.last, 65535)});
        if (sp.last >= udp_base && sp.first <= udp_base + 65535)
            c.udp.push_back({(std::max)(sp.first, udp_base) - udp_base, (std::min)(sp.last, udp_base + 65535) - udp_base});
        c.icmp = c.icmp || (sp.first <= icmp_service && sp.last >= icmp_service);
        c.other = c.other || sp.last >= other_service;
    }
    return c;
}

inline SpanSet join_services(const ServiceCell& c) {
    SpanSet out;
    for (const Span& s : c.tcp) span_append(out, s.first, s.last);
    for (const Span& s : c.udp) span_append(out, udp_base + s.first, udp_base + s.last);
    if (c.icmp) span_append(out, icmp_service, icmp_service);
    if (c.other) span_append(out, other_service, other_service);
    return out;
}

inline const SpanSet& all_service_spans() {
    static const SpanSet all{{0, service_max}};
    return all;
}

inline bool all_ports(const SpanSet& ports) { return ports.size() == 1 && ports[0].first == 0 && ports[0].last == 65535; }
inline bool has_port_zero(const SpanSet& ports) { return !ports.empty() && ports[0].first == 0; }

// A union of MXC `ports` entries can say exactly these cells: port 0 only with every port of that
// protocol ("tcp" without a port), and other protocols only as "any" without a port, i.e. everything.
inline bool allow_expressible(const ServiceCell& c) {
    if (c.other && !(all_ports(c.tcp) && all_ports(c.udp) && c.icmp)) return false;
    return (!has_port_zero(c.tcp) || all_ports(c.tcp)) && (!has_port_zero(c.udp) || all_ports(c.udp));
}

// A cell as allow-services minus deny-services, both sayable as `ports` lists.
struct CellForm {
    SpanSet allow;
    SpanSet deny;
};

// Exact whenever possible: with other protocols only as "everything minus (tcp/udp ports, icmp)",
// which needs port 0 wherever tcp (udp) is allowed at all; otherwise other protocols are left out.
inline CellForm positive_form(ServiceCell c) {
    if (allow_expressible(c)) return {join_services(c), {}};
    if (c.other) {
        bool tcp_ok = c.tcp.empty() || has_port_zero(c.tcp);
        bool udp_ok = c.udp.empty() || has_port_zero(c.udp);
        if (tcp_ok && udp_ok) return {all_service_spans(), span_difference(all_service_spans(), join_services(c))};
        c.other = false;  // not sayable in MXC: keep the tcp/udp/icmp part
        if (allow_expressible(c)) return {join_services(c), {}};
    }
    ServiceCell closure = c;  // port 0 is only reachable as "all ports", the rest is denied again
    if (has_port_zero(c.tcp)) closure.tcp = {{0, 65535}};
    if (has_port_zero(c.udp)) closure.udp = {{0, 65535}};
    SpanSet allow = join_services(closure);
    return {allow, span_difference(allow, join_services(c))};
}

// "Allow everything, deny the complement" where the complement is sayable, else positive_form.
inline CellForm negative_form(const SpanSet& services) {
    SpanSet complement = span_difference(all_service_spans(), services);
    if (allow_expressible(split_services(complement))) return {all_service_spans(), std::move(complement)};
    return positive_form(split_services(services));
}

// The `ports` list for sayable services; absent for everything.
inline std::optional<std::vector<PortSpec>> port_specs(const SpanSet& services) {
    if (services == all_service_spans()) return std::nullopt;
    ServiceCell c = split_services(services);
    std::vector<PortSpec> out;
    bool tcp_all = all_ports(c.tcp), udp_all = all_ports(c.udp);
    if (tcp_all) out.push_back(PortSpec::all(Protocol::tcp));
    if (udp_all) out.push_back(PortSpec::all(Protocol::udp));
    SpanSet tcp = tcp_all ? SpanSet{} : c.tcp;
    SpanSet udp = udp_all ? SpanSet{} : c.udp;
    std::vector<PortSpec> ranges;
    auto add = [&ranges](Protocol p, const SpanSet& spans) {
        for (const Span& s : spans)
            ranges.push_back(PortSpec::range(p, static_cast<std::uint16_t>(s.first), static_cast<std::uint16_t>(s.last)));
    };
    add(Protocol::any, span_intersection(tcp, udp));  // tcp and udp on the same ports: one "any" entry
    add(Protocol::tcp, span_difference(tcp, udp));
    add(Protocol::udp, span_difference(udp, tcp));
    std::sort(ranges.begin(), ranges.end(), [](const PortSpec& a, const PortSpec& b) {
        return a.first != b.first ? a.first < b.first : a.protocol < b.protocol;
    });
    out.insert(out.end(), ranges.begin(), ranges.end());
    if (c.icmp) out.push_back(PortSpec::all(Protocol::icmp));
    return out;
}

// Address runs gathered per services, in order of first appearance.
class RuleGroups {
public:
    void add(const SpanSet& services, Uint128 first, Uint128 last) {
        if (services.empty()) return;
        auto [it, fresh] = index_.emplace(services, groups_.size());
        if (fresh) groups_.push_back({services, {}});
        auto& spans = groups_[it->second].spans;
        if (!spans.empty() && spans.back().last != (Uint128::max)() && spans.back().last.next() == first)
            spans.back().last = last;
        else spans.push_back({first, last});
    }

    // Rules for the groups; a rule for everything is reported through `everything` instead.
    std::vector<EgressRule> rules(bool& everything) const {
        std::vector<EgressRule> out;
        for (const auto& g : groups_) {
            EgressRule r;
            bool all_addresses = g.spans.size() == 1 && g.spans[0].first == Uint128{} && g.spans[0].last == (Uint128::max)();
            if (!all_addresses) r.to = cover_peers(g.spans);
            r.ports = port_specs(g.services);
            if (!r.to && !r.ports) everything = true;
            else out.push_back(std::move(r));
        }
        return out;
    }

private:
    struct Group {
        SpanSet services;
        std::vector<AddressSpan> spans;
    };
    std::map<SpanSet, std::size_t> index_;
    std::vector<Group> groups_;
};

// CIDR strings plus `ports` entries plus one per rule: what a reader of the config has to read.
inline std::size_t egress_cost(const Egress& e) {
    std::size_t n = 0;
    for (const auto* list : {&e.allow, &e.deny})
        for (const EgressRule& r : *list) {
            n += 1 + (r.ports ? r.ports->size() : 0);
            if (r.to)
                for (const Peer& p : *r.to) n += 1 + p.except.size();
        }
    return n;
}

// One emitted form: per address run (with the runs nothing is allowed on when `negative`), the
// allow and deny services, grouped into rules by equal services.
inline Egress build_egress_form(const std::vector<Slab>& slabs, bool negative) {
    RuleGroups allow, deny;
    auto place = [&](Uint128 first, Uint128 last, const SpanSet& services) {
        CellForm f = negative ? negative_form(services) : positive_form(split_services(services));
        allow.add(f.allow, first, last);
        deny.add(f.deny, first, last);
    };
    Uint128 cursor{};
    bool open = true;  // cursor has not passed the last address
    for (const Slab& s : slabs) {
        if (negative && s.first > cursor) place(cursor, s.first.prev(), {});
        place(s.first, s.last, *s.services);
        open = s.last != (Uint128::max)();
        if (open) cursor = s.last.next();
    }
    if (negative && open) place(cursor, (Uint128::max)(), {});
    Egress e;
    bool everything = false;
    e.allow = allow.rules(everything);
    e.default_action = everything ? EgressDefault::allow : EgressDefault::deny;
    bool deny_everything = false;
    e.deny = deny.rules(deny_everything);
    if (deny_everything) e = Egress{EgressDefault::deny, {}, {}};  // denies all: nothing is allowed
    return e;
}

}  // namespace detail

CORDON_FUNC EgressSet EgressSet::expressible_part() const {
    bool changed = false;
    for (const auto& s : slabs_) {
        detail::ServiceCell c = detail::split_services(*s.services);
        if (c.other && !detail::allow_expressible(c) &&
            !((c.tcp.empty() || detail::has_port_zero(c.tcp)) && (c.udp.empty() || detail::has_port_zero(c.udp))))
            changed = true;
    }
    if (!changed) return *this;
    Builder out(Op::unite);
    for (const auto& s : slabs_) {
        detail::CellForm f = detail::positive_form(detail::split_services(*s.services));
        out.add(s.first, s.last, std::make_shared<const detail::SpanSet>(detail::span_difference(f.allow, f.deny)));
    }
    return out.finish();
}

CORDON_FUNC Egress EgressSet::to_egress() const {
    Egress positive = detail::build_egress_form(slabs_, false);
    // "Allow all, deny the rest" is shorter only for a set that covers most of the address axis
    // ("allow everything" less the host's own addresses, which may include an end of the axis:
    // ::/128); a set of a few blocks has a short positive form and a negative one of ~100 blocks.
    constexpr std::size_t short_form = 16;
    if (slabs_.empty() || detail::egress_cost(positive) <= short_form) return positive;
    Egress negative = detail::build_egress_form(slabs_, true);
    return detail::egress_cost(negative) < detail::egress_cost(positive) ? negative : positive;
}

}  // namespace cordon
