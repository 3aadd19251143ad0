// SPDX-License-Identifier: MIT
// cordon: clamp(request, ceiling, capabilities): the policy that may run, never wider than the ceiling, plus a report.
#pragma once

#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "cordon/capabilities.hpp"
#include "cordon/ceiling.hpp"
#include "cordon/cidr.hpp"
#include "cordon/clamp_report.hpp"
#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/mxc_codec.hpp"
#include "cordon/path.hpp"
#include "cordon/policy.hpp"

namespace cordon {

/// A path that must never become writable by a sandbox, and what it is (for the report).
struct TrustAnchor {
    std::string path;
    std::string what;
};

struct ClampOptions {
    /// Must equal the ceiling's style.
    PathStyle style = host_path_style();
    /// true: request paths are canonicalised on this host (the ceiling must have been, too).
    /// false: lexical only, so any style can be clamped (and tested) on any host.
    bool canonicalize = true;
    /// Trust anchor: the directory of the executor that will run the policy, filled by the caller.
    /// Never granted read-write. Absent: no executor anchor.
    std::optional<std::string> executor_dir;
    /// More trust anchors, never granted read-write: Runner::trust_anchors() (the executor's own
    /// directory and the directories its helper programs come from).
    std::vector<TrustAnchor> anchors;
    /// The host's own addresses, never granted as egress unless the ceiling names them
    /// (EgressClampOptions). Absent: this host's (detail::host_addresses) when canonicalising, none
    /// in lexical mode. Only where the backend enforces egress rules.
    std::optional<std::vector<Cidr>> host_addresses;

    /// Options for `style`, canonicalising on this host or lexical only, everything else default.
    /// (Positional initialisers break with each new member: name what you set.)
    static ClampOptions of(PathStyle style, bool canonicalize) {
        ClampOptions o;
        o.style = style;
        o.canonicalize = canonicalize;
        return o;
    }
};

struct ClampOutcome {
    Policy policy;  ///< what may run; paths canonical (or normalised, lexically)
    ClampReport report;
};

/// The MXC contract to emit a clamped policy with for executors of `sdk_version`: the newest one
/// that SDK accepts and that can express the policy (choose_contract), or, when none can, the
/// pinned one (to_mxc_json then says what it lacks). Runner::prepare refuses instead.
inline const Contract& emit_contract(const Policy& p, std::string_view sdk_version = default_sdk_version) {
    auto chosen = choose_contract(p, sdk_version);
    return chosen ? **chosen : pinned_contract;
}

/// Clamps `request` to `ceiling`: every granted path lies within a ceiling root of at least the
/// same access (compared after canonicalisation of both sides), the timeout is the stricter one,
/// the network and every ceiling-only field come from the ceiling, trust anchors stay read-only.
/// Pure given canonical inputs: with `options.canonicalize == false` nothing touches the disk.
/// Errors: backend-unsupported when the result needs a primitive `capabilities` says the backend
/// does not enforce (enforceable()) or the ceiling's containment is another backend;
/// invalid-policy for an unusable denied path or inconsistent options.
CORDON_FUNC Result<ClampOutcome> clamp(const Policy& request, const Ceiling& ceiling, const Capabilities& capabilities,
                                  const ClampOptions& options = {});

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/clamp.hpp"
#endif
