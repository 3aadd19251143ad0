// SPDX-License-Identifier: MIT
// cordon: implementation of egress_clamp.hpp: the clamp of egress rules against a ceiling's, through
// set algebra (compiled once by libcordon: its index types are half of what egress costs to compile).
#pragma once

#include <new>  // std::bad_alloc
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/detail/json_pointer.hpp"
#include "cordon/egress_clamp.hpp"
#include "cordon/impl/egress_build.hpp"  // detail::egress_too_complex
#include "cordon/impl/egress_index.hpp"  // EgressSet::Index

namespace cordon {

namespace detail {

// Verdicts for many requested rules against one ceiling. Every per-rule question is asked of a set
// computed once, through an EgressSet::Index, so a rule costs O(log n) per piece of it plus what it
// is granted, whatever the number of ceiling rules it spans. With A, D the ceiling's allow (or
// everything) and deny sets, and O the request's own deny rules, for a rule R (asked = R - O):
//   granted = R & (A - D - O);  all of asked is granted <=> R within (A - D) | O;
//   asked is empty <=> R within O;  part of it is denied <=> R meets D - O;
//   part of it is outside A (and not denied) <=> R not within A | D | O.
// H, the host's own addresses the ceiling does not name, is taken out of A like a deny rule, with
// a reason of its own: part of it is the host <=> R meets (H & A) - D - O.
class EgressClamper {
public:
    EgressClamper(const EgressSet& allow, const EgressSet& deny, const EgressSet& own_deny,
                  const EgressSet& host = EgressSet())
        : ceiling_(allow - deny - host),
          grantable_(ceiling_ - own_deny),
          kept_within_(ceiling_ | own_deny),
          own_deny_(own_deny),
          denied_(deny - own_deny),
          answered_(allow | deny | own_deny),
          host_((host & allow) - deny - own_deny),
          grantable_index_(grantable_),
          kept_index_(kept_within_),
          own_deny_index_(own_deny_),
          denied_index_(denied_),
          answered_index_(answered_),
          host_index_(host_) {}

    EgressClamper(const EgressClamper&) = delete;  // the indexes point into the sets
    EgressClamper& operator=(const EgressClamper&) = delete;

    const EgressSet& ceiling() const { return ceiling_; }

    EgressDecision decide(std::string field, std::string requested, const EgressSet& rule) const {
        EgressDecision d{std::move(field), std::move(requested), Verdict::dropped, {}, {}};
        if (rule.empty()) {
            d.reason = "it matches no traffic (every address of it is excepted)";
            return d;
        }
        if (own_deny_index_.contains(rule)) {
            d.reason = "the request's own deny rules remove all of it";
            return d;
        }
        EgressSet got = grantable_index_.meet(rule);
        if (kept_index_.contains(rule)) {
            d.verdict = Verdict::kept;
            d.granted = got.to_egress();
            return d;
        }
        // Traffic both outside the ceiling's allow rules and inside its deny rules is put down to the deny.
        bool none = got.empty();
        std::string reason;
        auto add = [&reason](const std::string& part) { reason += (reason.empty() ? "" : "; ") + part; };
        if (!answered_index_.contains(rule))
            add(none ? "outside the ceiling's egress allow rules" : "partly outside the ceiling's egress allow rules");
        if (denied_index_.meets(rule))
            add(none ? "inside the ceiling's egress deny rules" : "partly inside the ceiling's egress deny rules");
        if (host_index_.meets(rule))
            add(std::string(none ? "" : "partly ") + "the host's own addresses (" + host_text(host_index_.meet(rule)) +
                "), which the ceiling does not name as peers of their own");
        d.reason = none ? reason : "narrowed to what the ceiling allows: " + reason;
        if (!none) {
            d.verdict = Verdict::narrowed;
            d.granted = got.to_egress();
        }
        return d;
    }

private:
    // The host addresses in `part`, as peers: "198.51.100.1/32, 127.0.0.0/8".
    static std::string host_text(const EgressSet& part) {
        std::string out;
        for (const EgressRule& r : part.to_egress().allow)
            for (const Peer& p : r.to.value_or(std::vector<Peer>{})) {
                std::string cidr = p.cidr.str();
                if (out.find(cidr) == std::string::npos) out += (out.empty() ? "" : ", ") + cidr;
            }
        return out;
    }

    EgressSet ceiling_, grantable_, kept_within_, own_deny_, denied_, answered_, host_;
    EgressSet::Index grantable_index_, kept_index_, own_deny_index_, denied_index_, answered_index_, host_index_;
};

CORDON_FUNC Result<EgressSet> unnamed_host_addresses(const std::vector<Cidr>& hosts, const Egress& ceiling) {
    auto rule_for = [](const Cidr& c) { return EgressRule{std::vector<Peer>{Peer{c, {}}}, std::nullopt}; };
    std::vector<EgressRule> host, named;
    for (const Cidr& h : hosts) {
        host.push_back(rule_for(h.unmapped()));
        for (const EgressRule& r : ceiling.allow)
            for (const Peer& p : r.to.value_or(std::vector<Peer>{}))
                if (h.unmapped().family() == p.cidr.unmapped().family() && h.unmapped().contains(p.cidr.unmapped()))
                    named.push_back(rule_for(p.cidr.unmapped()));
    }
    auto all = EgressSet::from_rules(host, "host addresses");
    if (!all) return all.error();
    auto ok = EgressSet::from_rules(named, "host addresses named by the ceiling");
    if (!ok) return ok.error();
    return *all - *ok;
}

}  // namespace detail

CORDON_FUNC Result<EgressClampOutcome> clamp_egress(const Egress& request, const Egress& ceiling, std::string_view field,
                                                    std::string_view ceiling_field, const EgressClampOptions& options) {
    std::string at(field);
    auto in_ceiling = [](Error e) {
        e.message = "ceiling: " + e.message;
        return e;
    };
    auto ceiling_allow = EgressSet::from_rules(ceiling.allow, std::string(ceiling_field) + "/allow");
    if (!ceiling_allow) return in_ceiling(ceiling_allow.error());
    auto ceiling_deny = EgressSet::from_rules(ceiling.deny, std::string(ceiling_field) + "/deny");
    if (!ceiling_deny) return in_ceiling(ceiling_deny.error());
    auto request_allow = EgressSet::from_rules(request.allow, at + "/allow");
    if (!request_allow) return request_allow.error();
    auto request_deny = EgressSet::from_rules(request.deny, at + "/deny");
    if (!request_deny) return request_deny.error();
    auto host = detail::unnamed_host_addresses(options.host_addresses, ceiling);
    if (!host) return host.error();
    try {
        EgressSet ceiling_base =
            ceiling.effective_default() == EgressDefault::allow ? EgressSet::everything() : std::move(*ceiling_allow);
        detail::EgressClamper clamper(ceiling_base, *ceiling_deny, *request_deny, *host);
        bool open_default = request.effective_default() == EgressDefault::allow;
        EgressSet asked = (open_default ? EgressSet::everything() : *request_allow) - *request_deny;
        EgressClampOutcome out;
        out.granted = asked & clamper.ceiling();
        out.egress = out.granted.to_egress();
        if (open_default) out.decisions.push_back(clamper.decide(at + "/default", "allow", EgressSet::everything()));
        for (std::size_t i = 0; i < request.allow.size(); ++i) {
            auto rule = EgressSet::from_rule(request.allow[i]);  // checked above, cannot fail
            if (!rule) return rule.error();
            out.decisions.push_back(
                clamper.decide(detail::pointer_child(at + "/allow", i), to_json(request.allow[i]), *rule));
        }
        for (std::size_t i = 0; i < request.deny.size(); ++i)
            out.decisions.push_back(EgressDecision{detail::pointer_child(at + "/deny", i), to_json(request.deny[i]),
                                                   Verdict::kept, Egress{std::nullopt, {}, {request.deny[i]}}, ""});
        return out;
    } catch (const std::bad_alloc&) {
        return detail::egress_too_complex(at);
    }
}

}  // namespace cordon
