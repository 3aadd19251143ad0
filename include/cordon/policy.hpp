// SPDX-License-Identifier: MIT
// cordon: the policy model: what one run may do, independent of the MXC contract it is read from or emitted as.
#pragma once

#include <cstdint>  // std::uint16_t
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/run_limits.hpp"
#include "cordon/timeout.hpp"

namespace cordon {

/// Which MXC containment backend runs the command. `process` lets the executor pick for its host
/// (bubblewrap on Linux, processcontainer on Windows, seatbelt on macOS). The legacy spellings
/// `appcontainer` and `macos_sandbox` are read as `processcontainer` and `seatbelt`.
/// `isolation_session` and `wslc` (contracts 0.9.0-alpha on) are Windows backends cordon reads and
/// checks but has no runner for.
enum class Containment : std::uint8_t { process, processcontainer, lxc, bubblewrap, seatbelt, isolation_session, wslc };

/// The legacy `network.defaultPolicy` spelling (contracts 0.6.0-alpha to 0.8.0-alpha, and the
/// ceiling file). Legacy `block` is directional `deny`: the policy model holds EgressDefault.
enum class NetworkDefault : std::uint8_t { block, allow };
enum class EnforcementMode : std::uint8_t { capabilities, firewall, both };
enum class ClipboardAccess : std::uint8_t { none, read, write, all };
enum class UiIsolation : std::uint8_t { container, desktop, handles, atoms };
enum class LaunchMethod : std::uint8_t { exec, open };
/// `processContainer.captureDenials.mode` (0.8.0-alpha on).
enum class CaptureMode : std::uint8_t { block, allow };

/// `network.ingress.default` / `hostLoopback`: the wire's NetworkAction (allow | deny), the same
/// two values as an egress default; `deny` is the zero value.
using NetworkAction = EgressDefault;

/// Legacy default <-> directional default: `block` is `deny`.
constexpr EgressDefault to_egress_default(NetworkDefault d) noexcept {
    return d == NetworkDefault::allow ? EgressDefault::allow : EgressDefault::deny;
}
constexpr NetworkDefault to_network_default(EgressDefault d) noexcept {
    return d == EgressDefault::allow ? NetworkDefault::allow : NetworkDefault::block;
}

/// One `process.env` entry. MXC splits at the first '='; an entry without '=' (value absent) is
/// legal JSON that bubblewrap silently drops, so it is kept here to round-trip and reported by clamp.
struct EnvVar {
    std::string name;
    std::optional<std::string> value;

    /// The MXC spelling: "NAME=VALUE", or "NAME" when there is no '='.
    std::string entry() const { return value ? name + "=" + *value : name; }
    static EnvVar parse(std::string_view entry) {
        auto eq = entry.find('=');
        if (eq == std::string_view::npos) return EnvVar{std::string(entry), std::nullopt};
        return EnvVar{std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))};
    }
    friend bool operator==(const EnvVar& a, const EnvVar& b) { return a.name == b.name && a.value == b.value; }
    friend bool operator!=(const EnvVar& a, const EnvVar& b) { return !(a == b); }
};

/// The command and its environment. The environment inside the sandbox is exactly: the backend's
/// default environment if `inherit_default_env` (bubblewrap: fixed PATH and TERM, never copied
/// from the host), overridden by `env` in order. Nothing of the caller's environment is inherited.
/// Contracts say this differently (0.6-0.8: an absent `env` is empty; 0.9 on: an absent `env` is
/// the default), so the codecs translate; the model says what the sandbox gets.
struct ProcessSpec {
    std::string command_line;          ///< `commandLine`: `sh -c` on POSIX executors, CreateProcessW on Windows
    std::optional<std::string> cwd;    ///< `cwd`, passed verbatim
    std::vector<EnvVar> env;           ///< `env`, in order
    bool inherit_default_env = false;  ///< start from the backend's default environment (0.9.0-alpha on)
    Timeout timeout;                   ///< `timeout`; absent and 0 both mean none
};

struct FilesystemSpec {
    std::vector<std::string> readwrite;  ///< `readwritePaths`
    std::vector<std::string> readonly;   ///< `readonlyPaths`
    std::vector<std::string> denied;     ///< `deniedPaths`
    bool empty() const { return readwrite.empty() && readonly.empty() && denied.empty(); }
};

struct LifecycleSpec {
    std::optional<bool> destroy_on_exit;  ///< `destroyOnExit` (executor default true)
    std::optional<bool> preserve_policy;  ///< `preservePolicy` (executor default false)
};

struct FallbackSpec {
    std::optional<bool> allow_dacl_mutation;  ///< Windows tier-3 consent (executor default true)
};

/// The proxy the sandbox's traffic goes through. Legacy contracts spell it `network.proxy` (one of
/// three variants); directional ones `runtimeConfig.networkProxy`, a loopback URL only (ProxyUrl).
struct ProxyLocalhost {
    std::uint16_t port = 0;  ///< 1..65535
};
struct ProxyBuiltinTestServer {};  ///< testing only; needs an executor flag
struct ProxyUrl {
    std::string url;  ///< scheme://host:port
};
using Proxy = std::variant<ProxyLocalhost, ProxyBuiltinTestServer, ProxyUrl>;

/// `network.ingress`: connections into the sandbox, and from it to the host's loopback services.
struct Ingress {
    std::optional<NetworkAction> default_action;  ///< `default`; absent means deny
    std::optional<NetworkAction> host_loopback;   ///< `hostLoopback`; absent means deny
    NetworkAction effective_default() const noexcept { return default_action.value_or(NetworkAction::deny); }
    NetworkAction effective_host_loopback() const noexcept { return host_loopback.value_or(NetworkAction::deny); }
};

/// Legacy-only network fields (contracts 0.6.0-alpha to 0.8.0-alpha) with no directional
/// counterpart. They are read so that configs check and round-trip, but host lists are never run
/// (no backend enforces them under a legacy contract), and no directional contract can carry them.
struct LegacyNetwork {
    std::optional<EnforcementMode> enforcement_mode;  ///< `enforcementMode`
    std::vector<std::string> allowed_hosts;           ///< `allowedHosts`
    std::vector<std::string> blocked_hosts;           ///< `blockedHosts`
    std::optional<bool> allow_local_network;          ///< `allowLocalNetwork` (Seatbelt only)
    bool empty() const noexcept {
        return !enforcement_mode && allowed_hosts.empty() && blocked_hosts.empty() && !allow_local_network;
    }
};

/// The network, contract-neutral. Egress: what the sandbox may reach (deny by default; legacy
/// `defaultPolicy` is `egress.default`, `block` = deny). Ingress: what may reach it. Proxy: where
/// its traffic is sent. `legacy`: the fields only legacy contracts have.
struct NetworkSpec {
    Egress egress;                ///< `network.egress` (legacy: `defaultPolicy` only, no rules)
    Ingress ingress;              ///< `network.ingress` (directional contracts and 0.8.0-alpha)
    std::optional<Proxy> proxy;   ///< legacy `network.proxy`, directional `runtimeConfig.networkProxy`
    LegacyNetwork legacy;

    EgressDefault effective_default() const noexcept { return egress.effective_default(); }
    /// Egress rules, ingress or loopback grants: anything beyond one default for all traffic.
    bool has_directional_detail() const noexcept {
        return !egress.allow.empty() || !egress.deny.empty() || ingress.default_action || ingress.host_loopback;
    }
};

struct UiSpec {
    std::optional<bool> disable;
    std::optional<ClipboardAccess> clipboard;
    std::optional<bool> injection;
};

struct ProcessContainerUi {
    std::optional<UiIsolation> isolation;
    std::optional<bool> desktop_system_control;
    std::optional<std::string> system_settings;  ///< free-form in the contract
    std::optional<bool> ime;
};

/// `processContainer.captureDenials` (0.8.0-alpha on).
struct CaptureDenials {
    std::optional<CaptureMode> mode;
    std::optional<std::string> output_path;  ///< `outputPath`
    std::optional<bool> retain_etl;          ///< `retainEtl`
};

/// Windows-only `processContainer` section (legacy key `appContainer`).
struct ProcessContainerSpec {
    std::optional<bool> least_privilege;
    std::optional<bool> learning_mode;      ///< `learningMode` (0.8.0-alpha on)
    std::vector<std::string> capabilities;  ///< AppContainer capability names, e.g. internetClient
    std::optional<CaptureDenials> capture_denials;  ///< 0.8.0-alpha on
    std::optional<ProcessContainerUi> ui;
    std::optional<std::vector<std::string>> enumerate_paths;  ///< `filesystem.enumeratePaths` (0.9.0-alpha on)
    std::optional<std::string> allowed_proxy_peer;            ///< `network.allowedProxyPeer` (0.8.0-alpha on)
};

struct LxcSpec {
    std::string distribution;
    std::string release;
};

/// macOS `seatbelt` section (contract 0.7.0-alpha on). `keychainAccess` has no field on purpose:
/// keychain access is never grantable through cordon (only `false` is accepted when parsing).
/// `launchMethod` exists up to 0.8.0-alpha.
struct SeatbeltSpec {
    std::optional<std::string> profile_override;
    std::optional<bool> gui_access;
    std::optional<LaunchMethod> launch_method;
    std::optional<bool> nested_pty;
    std::vector<std::string> extra_mach_lookups;
};

/// `telemetry` (0.9.0-alpha on).
struct TelemetrySpec {
    std::optional<bool> enabled;
};

/// One `wslc.portMappings` entry (its protocol is always tcp, the only value the contract has).
struct WslcPortMapping {
    std::uint16_t windows_port = 0;    ///< nonzero
    std::uint16_t container_port = 0;  ///< nonzero
};

/// Windows `wslc` section (0.9.0-alpha on); cordon reads and checks it, and has no runner for it.
struct WslcSpec {
    std::optional<std::string> target_os, image, image_tar_path, storage_path;
    std::optional<std::uint32_t> cpu_count;
    std::optional<std::uint64_t> memory_mb;
    std::optional<bool> gpu;
    std::optional<std::vector<WslcPortMapping>> port_mappings;
};

/// A complete one-shot MXC request. Optional sections are std::optional so that "absent" and
/// "present with defaults" stay distinct where the executor distinguishes them.
struct Policy {
    std::optional<std::string> container_id;
    std::optional<Containment> containment;  ///< absent means `process`
    ProcessSpec process;
    FilesystemSpec filesystem;
    std::optional<LifecycleSpec> lifecycle;
    std::optional<FallbackSpec> fallback;
    std::optional<NetworkSpec> network;  ///< absent: egress, ingress and host loopback all deny
    std::optional<UiSpec> ui;
    std::optional<ProcessContainerSpec> process_container;
    std::optional<LxcSpec> lxc;
    std::optional<SeatbeltSpec> seatbelt;
    std::optional<TelemetrySpec> telemetry;
    std::optional<WslcSpec> wslc;

    // cordon's own run controls: in no MXC contract (never emitted or parsed); clamp sets them from
    // the ceiling and Runner::run applies them (RunOptions can only narrow them further).
    std::optional<RunAs> run_as;  ///< POSIX: the unprivileged user the sandbox runs as
    Limits limits;                ///< POSIX: resource limits of the whole sandbox tree
    /// Domain patterns (`pypi.org`, `*.github.com:443`) reached through cordon's filtering proxy;
    /// after clamp, the granted ones. A runner refuses them unless the proxy is set up
    /// (network.proxy), since no MXC contract carries them.
    std::vector<std::string> allowed_domains;

    Containment effective_containment() const { return containment.value_or(Containment::process); }
    /// The egress default (absent network: deny).
    EgressDefault effective_egress_default() const {
        return network ? network->effective_default() : EgressDefault::deny;
    }
};

// Member-wise equality, so round-trip tests can compare whole policies. Defined in impl/policy.hpp:
// compiled once by libcordon, since comparing the tuples and variants of a whole policy was half
// of what an embedder's translation unit would otherwise compile.
#define CORDON_DETAIL_EQ(Type)                                                \
    CORDON_FUNC bool operator==(const Type& a, const Type& b);                \
    inline bool operator!=(const Type& a, const Type& b) { return !(a == b); }
CORDON_DETAIL_EQ(ProxyLocalhost)
CORDON_DETAIL_EQ(ProxyBuiltinTestServer)
CORDON_DETAIL_EQ(ProxyUrl)
CORDON_DETAIL_EQ(ProcessSpec)
CORDON_DETAIL_EQ(FilesystemSpec)
CORDON_DETAIL_EQ(LifecycleSpec)
CORDON_DETAIL_EQ(FallbackSpec)
CORDON_DETAIL_EQ(Ingress)
CORDON_DETAIL_EQ(LegacyNetwork)
CORDON_DETAIL_EQ(NetworkSpec)
CORDON_DETAIL_EQ(UiSpec)
CORDON_DETAIL_EQ(ProcessContainerUi)
CORDON_DETAIL_EQ(CaptureDenials)
CORDON_DETAIL_EQ(ProcessContainerSpec)
CORDON_DETAIL_EQ(LxcSpec)
CORDON_DETAIL_EQ(SeatbeltSpec)
CORDON_DETAIL_EQ(TelemetrySpec)
CORDON_DETAIL_EQ(WslcPortMapping)
CORDON_DETAIL_EQ(WslcSpec)
CORDON_DETAIL_EQ(Policy)
}  // namespace cordon

#undef CORDON_DETAIL_EQ

#if CORDON_HEADER_ONLY
#include "cordon/impl/policy.hpp"
#endif
