// SPDX-License-Identifier: MIT
// cordon: which contract can carry a policy, and which one to emit for an executor SDK.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/names.hpp"
#include "cordon/pins.hpp"
#include "cordon/policy.hpp"
#include "cordon/violation.hpp"

namespace cordon {

namespace detail {

constexpr bool contract_has_containment(const Contract& c, Containment x) noexcept {
    switch (x) {
        case Containment::process:
        case Containment::processcontainer:
        case Containment::lxc:
        case Containment::bubblewrap: return true;
        case Containment::seatbelt: return c.seatbelt;
        case Containment::isolation_session:
        case Containment::wslc: return c.windows_09;
    }
    return false;
}

inline std::optional<Violation> lacks(std::string pointer, const Contract& c, std::string_view what) {
    return Violation{std::move(pointer), "contract " + std::string(c.version) + " has no " + std::string(what)};
}

// Sections and fields every family has or lacks by the row's flags.
inline std::optional<Violation> inexpressible_sections(const Policy& p, const Contract& c) {
    if (p.containment && !contract_has_containment(c, *p.containment))
        return lacks("/containment", c, "containment \"" + std::string(to_string(*p.containment)) + "\"");
    if (p.process.inherit_default_env && !c.inherit_default_env)
        return lacks("/process/inheritDefaultEnv", c, "default environment to inherit (0.9.0-alpha on)");
    if (p.seatbelt && !c.seatbelt) return lacks("/seatbelt", c, "seatbelt section (0.7.0-alpha on)");
    if (p.seatbelt && p.seatbelt->launch_method && !c.seatbelt_launch_method)
        return lacks("/seatbelt/launchMethod", c, "seatbelt.launchMethod (0.7.0-alpha and 0.8.0-alpha only)");
    if (p.telemetry && !c.windows_09) return lacks("/telemetry", c, "telemetry section (0.9.0-alpha on)");
    if (p.wslc && !c.windows_09) return lacks("/wslc", c, "wslc section (0.9.0-alpha on)");
    if (const auto* pc = p.process_container ? &*p.process_container : nullptr) {
        if ((pc->learning_mode || pc->capture_denials || pc->allowed_proxy_peer) && !c.process_container_08)
            return lacks("/processContainer", c, "learningMode, captureDenials or network (0.8.0-alpha on)");
        if (pc->enumerate_paths && !c.windows_09)
            return lacks("/processContainer/filesystem/enumeratePaths", c, "enumeratePaths (0.9.0-alpha on)");
    }
    return std::nullopt;
}

// The network fields the row's family and flags cannot say.
inline std::optional<Violation> inexpressible_network(const NetworkSpec& n, const Contract& c) {
    const bool url_proxy = n.proxy && std::holds_alternative<ProxyUrl>(*n.proxy);
    if (!c.legacy_network) {
        if (n.legacy.enforcement_mode) return lacks("/network/enforcementMode", c, "enforcementMode (legacy contracts only)");
        if (!n.legacy.allowed_hosts.empty() || !n.legacy.blocked_hosts.empty())
            return lacks("/network/allowedHosts", c, "host lists (legacy contracts only; use egress CIDR rules)");
        if (n.legacy.allow_local_network)
            return lacks("/network/allowLocalNetwork", c, "allowLocalNetwork (legacy contracts only)");
        if (n.proxy && !url_proxy)
            return lacks("/runtimeConfig/networkProxy", c,
                         "localhost-port or built-in test server proxy (legacy contracts only; give a URL)");
        return std::nullopt;
    }
    if (!c.directional_network) {
        if (!n.egress.allow.empty()) return lacks("/network/egress/allow", c, "egress rules (0.8.0-alpha on)");
        if (!n.egress.deny.empty()) return lacks("/network/egress/deny", c, "egress rules (0.8.0-alpha on)");
        if (n.ingress.default_action || n.ingress.host_loopback)
            return lacks("/network/ingress", c, "ingress section (0.8.0-alpha on)");
        return std::nullopt;
    }
    if (!n.legacy.empty() && n.has_directional_detail())  // 0.8.0-alpha has both, never mixed
        return Violation{"/network", "contract " + std::string(c.version) +
                                         " cannot mix legacy network fields with egress rules or ingress"};
    return std::nullopt;
}

}  // namespace detail

/// Where `policy` needs something `contract` cannot say, as a violation at the model's pointer
/// ("/network/egress/allow": "contract 0.6.0-alpha has no egress rules (0.8.0-alpha on)"), or
/// nullopt when the contract can carry all of it.
inline std::optional<Violation> inexpressible(const Policy& policy, const Contract& contract) {
    if (contract.development)
        return Violation{"/version", "contract " + std::string(contract.version) + " is a development contract"};
    if (auto v = detail::inexpressible_sections(policy, contract)) return v;
    if (policy.network) return detail::inexpressible_network(*policy.network, contract);
    return std::nullopt;
}

/// The contract to emit `policy` with for executors of `sdk_version`: the newest contract that SDK
/// accepts, that cordon emits (Contract::emitted) and that can express the policy. Errors:
/// backend-unsupported when the SDK is unknown or none of its contracts can carry the policy (the
/// message says why the newest one cannot; `where` is its model pointer).
inline Result<const Contract*> choose_contract(const Policy& policy, std::string_view sdk_version) {
    std::optional<Violation> newest_problem;
    for (std::size_t i = all_contracts.size(); i-- > 0;) {
        const Contract& c = *all_contracts[i];
        if (!c.emitted || !sdk_accepts_contract(sdk_version, c.version)) continue;
        auto problem = inexpressible(policy, c);
        if (!problem) return &c;
        if (!newest_problem) newest_problem = problem;
    }
    if (!newest_problem)
        return make_error(ErrorCode::backend_unsupported,
                          "cordon emits no contract that executor SDK " + std::string(sdk_version) + " accepts");
    return make_error(ErrorCode::backend_unsupported,
                      "no contract executor SDK " + std::string(sdk_version) +
                          " accepts can express this policy: " + newest_problem->message,
                      newest_problem->pointer);
}

}  // namespace cordon
