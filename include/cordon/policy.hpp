// SPDX-License-Identifier: MIT
// cordon: the policy model, a value-type image of the MXC one-shot config (contracts 0.6.0-alpha and 0.7.0-alpha).
#pragma once

#include <cstdint>  // std::uint16_t
#include <optional>
#include <string>
#include <string_view>
#include <tuple>  // std::forward_as_tuple
#include <variant>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/run_limits.hpp"
#include "cordon/timeout.hpp"

namespace cordon {

/// Which MXC containment backend runs the command. `process` lets the executor pick for its host
/// (bubblewrap on Linux, processcontainer on Windows, seatbelt on macOS). The legacy spellings
/// `appcontainer` and `macos_sandbox` are read as `processcontainer` and `seatbelt`.
enum class Containment : std::uint8_t { process, processcontainer, lxc, bubblewrap, seatbelt };

/// Network default. `block` is the zero value: a default-constructed policy denies.
enum class NetworkDefault : std::uint8_t { block, allow };
enum class EnforcementMode : std::uint8_t { capabilities, firewall, both };
enum class ClipboardAccess : std::uint8_t { none, read, write, all };
enum class UiIsolation : std::uint8_t { container, desktop, handles, atoms };
enum class LaunchMethod : std::uint8_t { exec, open };

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

struct ProcessSpec {
    std::string command_line;          ///< `commandLine`: `sh -c` on POSIX executors, CreateProcessW on Windows
    std::optional<std::string> cwd;    ///< `cwd`, passed verbatim
    std::vector<EnvVar> env;           ///< `env`, in order; nothing else is inherited
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

/// `network.proxy`: exactly one of three variants.
struct ProxyLocalhost {
    std::uint16_t port = 0;  ///< 1..65535
};
struct ProxyBuiltinTestServer {};  ///< testing only; needs an executor flag
struct ProxyUrl {
    std::string url;  ///< scheme://host:port
};
using Proxy = std::variant<ProxyLocalhost, ProxyBuiltinTestServer, ProxyUrl>;

struct NetworkSpec {
    std::optional<NetworkDefault> default_policy;  ///< absent means block on every executor
    std::optional<EnforcementMode> enforcement_mode;
    std::vector<std::string> allowed_hosts;
    std::vector<std::string> blocked_hosts;
    std::optional<bool> allow_local_network;
    std::optional<Proxy> proxy;

    NetworkDefault effective_default() const { return default_policy.value_or(NetworkDefault::block); }
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

/// Windows-only `processContainer` section (legacy key `appContainer`).
struct ProcessContainerSpec {
    std::optional<bool> least_privilege;
    std::vector<std::string> capabilities;  ///< AppContainer capability names, e.g. internetClient
    std::optional<ProcessContainerUi> ui;
};

struct LxcSpec {
    std::string distribution;
    std::string release;
};

/// macOS `seatbelt` section (contract 0.7.0-alpha on). `keychainAccess` has no field on purpose:
/// keychain access is never grantable through cordon (only `false` is accepted when parsing).
struct SeatbeltSpec {
    std::optional<std::string> profile_override;
    std::optional<bool> gui_access;
    std::optional<LaunchMethod> launch_method;
    std::optional<bool> nested_pty;
    std::vector<std::string> extra_mach_lookups;
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
    std::optional<NetworkSpec> network;  ///< absent means block
    std::optional<UiSpec> ui;
    std::optional<ProcessContainerSpec> process_container;
    std::optional<LxcSpec> lxc;
    std::optional<SeatbeltSpec> seatbelt;

    // cordon's own run controls: in no MXC contract (never emitted or parsed); clamp sets them from
    // the ceiling and Runner::run applies them (RunOptions can only narrow them further).
    std::optional<RunAs> run_as;  ///< POSIX: the unprivileged user the sandbox runs as
    Limits limits;                ///< POSIX: resource limits of the whole sandbox tree

    Containment effective_containment() const { return containment.value_or(Containment::process); }
    NetworkDefault effective_network_default() const {
        return network ? network->effective_default() : NetworkDefault::block;
    }
};

// Member-wise equality, spelled out once so round-trip tests can compare whole policies.
#define CORDON_DETAIL_EQ(Type, ...)                                                    \
    inline bool operator==(const Type& a, const Type& b) {                             \
        auto tie = [](const Type& x) { return std::forward_as_tuple(__VA_ARGS__); };   \
        return tie(a) == tie(b);                                                       \
    }                                                                                  \
    inline bool operator!=(const Type& a, const Type& b) { return !(a == b); }

inline bool operator==(const ProxyLocalhost& a, const ProxyLocalhost& b) { return a.port == b.port; }
inline bool operator==(const ProxyBuiltinTestServer&, const ProxyBuiltinTestServer&) { return true; }
inline bool operator==(const ProxyUrl& a, const ProxyUrl& b) { return a.url == b.url; }
CORDON_DETAIL_EQ(ProcessSpec, x.command_line, x.cwd, x.env, x.timeout)
CORDON_DETAIL_EQ(FilesystemSpec, x.readwrite, x.readonly, x.denied)
CORDON_DETAIL_EQ(LifecycleSpec, x.destroy_on_exit, x.preserve_policy)
CORDON_DETAIL_EQ(FallbackSpec, x.allow_dacl_mutation)
CORDON_DETAIL_EQ(NetworkSpec, x.default_policy, x.enforcement_mode, x.allowed_hosts, x.blocked_hosts,
                 x.allow_local_network, x.proxy)
CORDON_DETAIL_EQ(UiSpec, x.disable, x.clipboard, x.injection)
CORDON_DETAIL_EQ(ProcessContainerUi, x.isolation, x.desktop_system_control, x.system_settings, x.ime)
CORDON_DETAIL_EQ(ProcessContainerSpec, x.least_privilege, x.capabilities, x.ui)
CORDON_DETAIL_EQ(LxcSpec, x.distribution, x.release)
CORDON_DETAIL_EQ(SeatbeltSpec, x.profile_override, x.gui_access, x.launch_method, x.nested_pty,
                 x.extra_mach_lookups)
CORDON_DETAIL_EQ(Policy, x.container_id, x.containment, x.process, x.filesystem, x.lifecycle, x.fallback,
                 x.network, x.ui, x.process_container, x.lxc, x.seatbelt, x.run_as, x.limits)
}  // namespace cordon

#undef CORDON_DETAIL_EQ
