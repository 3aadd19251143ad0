// SPDX-License-Identifier: MIT
// cordon: clamp_egress(request, ceiling): the egress a request may have under a ceiling, with a verdict per requested rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cordon/clamp_report.hpp"
#include "cordon/config.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/egress_set.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// What happened to one requested egress item (`default: allow`, an allow rule or a deny rule).
struct EgressDecision {
    std::string field;      ///< JSON pointer into the request: "/network/egress/allow/2", ".../default"
    std::string requested;  ///< the item as compact MXC JSON (to_json), or "allow" for the default
    Verdict verdict = Verdict::dropped;
    Egress granted;      ///< the part of it that may run, as an egress section (empty when dropped)
    std::string reason;  ///< why, in one sentence; empty when kept as asked
};

/// What clamp_egress needs to know about the host beyond the two sections.
struct EgressClampOptions {
    /// The host's own addresses (its interfaces as /32 and /128, loopback blocks): a sandbox whose
    /// traffic leaves through the host (slirp4netns, NAT) reaches a host service bound to 0.0.0.0
    /// through any of them, so none is granted unless a ceiling allow rule names it with a peer of
    /// its own, inside the host block (`A/32`, `A/128`, `127.0.0.1/32`); a ceiling block that merely
    /// contains it is not enough (docs/mxc-1.0.md section 9.2).
    std::vector<Cidr> host_addresses;
};

struct EgressClampOutcome {
    Egress egress;      ///< the clamped section to emit (to_egress of `granted`)
    EgressSet granted;  ///< request ∩ ceiling, exactly
    std::vector<EgressDecision> decisions;
};

namespace detail {
// The host blocks minus the ceiling allow peers that lie inside one of them (those name it), as a
// set of every service.
CORDON_FUNC Result<EgressSet> unnamed_host_addresses(const std::vector<Cidr>& hosts, const Egress& ceiling);
}  // namespace detail

/// The egress `request` may have under `ceiling`: (request allow, or everything for `default:
/// allow`, minus request deny) ∩ (ceiling allow, or everything, minus ceiling deny). Nothing inside a
/// ceiling deny rule is ever granted. One decision per requested item: kept (all of it is granted),
/// narrowed (part of it), dropped (none of it); deny rules only narrow the request and are always kept.
/// Under a ceiling that allows only some rules, `default: allow` becomes exactly those rules.
/// The host's own addresses in `options` are granted only where the ceiling names them.
/// `field` and `ceiling_field` are the JSON pointers of the two egress sections. Errors: invalid-policy
/// for a rule either side cannot have (check_rule, IPv6 blocks the executor refuses, rule sets too
/// large to compare); the message of a ceiling error starts with "ceiling: ".
CORDON_FUNC Result<EgressClampOutcome> clamp_egress(const Egress& request, const Egress& ceiling,
                                                    std::string_view field = "/network/egress",
                                                    std::string_view ceiling_field = "/network/egress",
                                                    const EgressClampOptions& options = {});

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/egress_clamp.hpp"
#endif
