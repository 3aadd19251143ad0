// SPDX-License-Identifier: MIT
// cordon: enforceable(policy, capabilities): what a policy needs that a backend does not enforce.
#pragma once
#include <string>
#include <string_view>
#include "cordon/capabilities.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"

namespace cordon {

/// Whether `capabilities`' backend enforces every primitive `policy` relies on: host lists,
/// egress rules, ingress `allow` and `hostLoopback: allow`, deniedPaths. The one place both clamp
/// (on its result) and Runner::prepare (on what it runs) refuse them, so that a policy is never run
/// weaker than it reads (fail closed). `contract` names the config contract in the message (the
/// row's first one when empty).
/// Errors: backend-unsupported, at the JSON pointer of the first unenforced field.
inline Status enforceable(const Policy& policy, const Capabilities& capabilities, std::string_view contract = {}) {
    const Capabilities& caps = capabilities;
    const std::string who = "backend " + std::string(to_string(caps.backend)) + " (SDK " + std::string(caps.sdk_version) +
                            ", contract " + std::string(contract.empty() ? detail::first_word(caps.contracts) : contract) + ")";
    auto refuse = [&](const char* what, const char* instead, const char* where) -> Status {
        return make_error(ErrorCode::backend_unsupported,
                          who + " does not enforce " + what + "; refusing rather than " + instead, where);
    };
    if (policy.network) {
        const NetworkSpec& n = *policy.network;
        if ((!n.legacy.allowed_hosts.empty() || !n.legacy.blocked_hosts.empty()) && !caps.host_filtering)
            return refuse("host lists", "dropping them or running with the network open", "/network");
        if ((!n.egress.allow.empty() || !n.egress.deny.empty()) && !caps.egress_rules)
            return refuse("egress rules", "running without them", "/network/egress");
        if (n.ingress.effective_default() == NetworkAction::allow && !caps.ingress)
            return refuse("ingress \"allow\"", "running with ingress closed", "/network/ingress/default");
        if (n.ingress.effective_host_loopback() == NetworkAction::allow && !caps.ingress)
            return refuse("hostLoopback \"allow\"", "running with the host's loopback closed",
                          "/network/ingress/hostLoopback");
    }
    if (!policy.filesystem.denied.empty() && !caps.denied_paths)
        return make_error(ErrorCode::backend_unsupported,
                          who + " does not enforce deniedPaths; refusing to run " +
                              std::to_string(policy.filesystem.denied.size()) + " denial(s) unenforced",
                          "/filesystem/deniedPaths");
    return {};
}

}  // namespace cordon
