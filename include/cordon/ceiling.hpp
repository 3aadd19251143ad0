// SPDX-License-Identifier: MIT
// cordon: the operator ceiling: what may ever be granted (loaded by ceiling_loader.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/path.hpp"
#include "cordon/policy.hpp"
#include "cordon/run_limits.hpp"
#include "cordon/timeout.hpp"

namespace cordon {

/// Request fields that come from the ceiling unless the ceiling's `requestMaySet` names them.
enum class RequestField : std::uint8_t {
    container_id,
    lifecycle,
    fallback_allow_dacl_mutation,
    network_proxy,
    network_enforcement_mode,
    network_allow_local_network,
    ui,
    process_container_capabilities,
    process_container_least_privilege,
    process_container_ui,
    seatbelt,                   ///< every seatbelt field except profileOverride
    seatbelt_profile_override,  ///< a whole SBPL profile: named on its own because it replaces the sandbox
    lxc,
};

template <>
struct EnumNames<RequestField> {
    static constexpr std::array<EnumName<RequestField>, 13> table{{
        {"containerId", RequestField::container_id},
        {"lifecycle", RequestField::lifecycle},
        {"fallback.allowDaclMutation", RequestField::fallback_allow_dacl_mutation},
        {"network.proxy", RequestField::network_proxy},
        {"network.enforcementMode", RequestField::network_enforcement_mode},
        {"network.allowLocalNetwork", RequestField::network_allow_local_network},
        {"ui", RequestField::ui},
        {"processContainer.capabilities", RequestField::process_container_capabilities},
        {"processContainer.leastPrivilege", RequestField::process_container_least_privilege},
        {"processContainer.ui", RequestField::process_container_ui},
        {"seatbelt", RequestField::seatbelt},
        {"seatbelt.profileOverride", RequestField::seatbelt_profile_override},
        {"lxc", RequestField::lxc},
    }};
};

/// The ceiling file format this cordon reads (`version`; absent means 1). A file of another
/// version is refused for its version before any of its fields is read.
inline constexpr std::int64_t ceiling_format_version = 1;

/// The operator's own values for the fields a request may not set unless the ceiling's
/// `requestMaySet` names them; clamp copies them into the clamped policy (MXC shapes).
struct FixedFields {
    std::optional<std::string> container_id;
    std::optional<LifecycleSpec> lifecycle;
    std::optional<FallbackSpec> fallback;
    std::optional<UiSpec> ui;
    std::optional<EnforcementMode> enforcement_mode;  ///< `network.enforcementMode`
    std::optional<bool> allow_local_network;          ///< `network.allowLocalNetwork`
    std::optional<Proxy> proxy;                       ///< `network.proxy`
    std::optional<ProcessContainerSpec> process_container;
    std::optional<SeatbeltSpec> seatbelt;
    std::optional<LxcSpec> lxc;
};

/// What an operator allows. Paths are canonical (when loaded with canonicalisation) or lexically
/// normalised, in `style`; they are never resolved again by clamp.
struct Ceiling {
    PathStyle style = host_path_style();
    bool canonical = false;                  ///< paths were canonicalised on this host at load time
    std::optional<Containment> containment;  ///< absent: the backend whose capabilities clamp is given
    std::vector<Path> readonly;              ///< read-only roots
    std::vector<Path> readwrite;             ///< read-write roots (also readable)
    std::vector<Path> denied;                ///< always denied, added to every clamped policy
    /// Unix sockets a grant may expose (docker.sock, an ssh-agent): every other socket found in a
    /// granted directory is masked (clamp, canonical mode).
    std::vector<Path> allowed_sockets;
    Timeout timeout;                         ///< none: the operator set no limit
    /// Resource limits as the ceiling names them: absent = cordon's default
    /// (detail::limit_fields), 0 = explicitly none. A request can only lower them.
    Limits limits;
    /// POSIX: the user the sandbox runs as, when the ceiling names one (`runAs`, CORDON_RUN_AS).
    /// Unnamed, Runner::run takes detail::default_run_as(): `nobody` when cordon runs as root.
    std::optional<RunAs> run_as;
    NetworkDefault network = NetworkDefault::block;
    std::vector<std::string> allowed_hosts;  ///< non-empty: network only to these hosts
    /// `network.egress.allow` / `deny`: MXC 1.0 rules. What a request may reach is (the allow rules,
    /// or everything when `network` is allow) minus the deny rules; its default is unused.
    Egress egress;
    /// `network.allowedDomains`: what a request's domains are clamped to; granted ones are reached
    /// only through cordon's filtering proxy (docs/network-proxy.md).
    std::vector<DomainPattern> allowed_domains;
    /// `network.proxyHostsFile`: the proxy resolves names with this hosts file only (empty: the
    /// system resolver). For tests and air-gapped hosts.
    std::string proxy_hosts_file;
    /// `network.allowedInternal`: address blocks the proxy may connect to although they are
    /// internal (loopback, private, link-local, CGNAT, cloud metadata, this host's own), which it
    /// otherwise refuses for every granted domain. Empty: none.
    std::vector<std::string> proxy_allowed_internal;
    std::vector<std::string> env_allow;      ///< variable names or globs (`LC_*`)
    FixedFields fixed;  ///< values for the ceiling-only fields
    std::vector<RequestField> request_may_set;
    std::optional<Path> source_file;  ///< the ceiling file in use: a trust anchor, never writable
    /// Where the ceiling came from, as reports name it: the file as given, "environment CORDON_*",
    /// or empty (parsed from text). clamp copies it into ClampReport::ceiling.
    std::string source;

    bool allows_network() const noexcept {
        return network == NetworkDefault::allow || !allowed_hosts.empty() || !egress.allow.empty();
    }
    bool request_may(RequestField f) const noexcept {
        for (RequestField g : request_may_set)
            if (g == f) return true;
        return false;
    }
};

}  // namespace cordon
