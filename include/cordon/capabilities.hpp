// SPDX-License-Identifier: MIT
// cordon: what each backend really enforces, per executor SDK version and config contract, as data.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "cordon/backend.hpp"
#include "cordon/config.hpp"

namespace cordon {

/// How a capability row is known: measured on a real executor by cordon's own tests, or taken
/// from upstream documentation / the reference integration (assumed until a machine can show it).
enum class Evidence : std::uint8_t { assumed, measured };

/// How a backend keeps a denial in force when the sandbox renames one of its parent directories
/// inside a writable grant (`mv a b; mkdir a/secret` would otherwise leave the denied content
/// readable at b/secret in the next run).
enum class RenameGuard : std::uint8_t {
    object_bound,    ///< the denial is on the object itself (Windows ACLs): a rename carries it along
    bind_ancestors,  ///< mount-based (bubblewrap): clamp grants each parent below the writable root on
                     ///< itself, making it a mount point that cannot be renamed (EBUSY)
    none,            ///< path-based and unpinnable (Seatbelt profiles): a denial inside a writable grant is refused
};

/// An address block a backend accepts in an egress allow rule but never lets traffic reach, and why
/// (clamp refuses a grant that lies wholly inside such blocks rather than let it do nothing).
struct SilentPeer {
    std::string_view cidr;  ///< "::/0" stands for every IPv6 destination that is not IPv4-mapped
    std::string_view why;   ///< completes "<rule> would never be reached: <cidr> ..."
};

/// A list of SilentPeer in static storage.
struct SilentPeers {
    const SilentPeer* data = nullptr;
    std::size_t size = 0;
    constexpr const SilentPeer* begin() const noexcept { return data; }
    constexpr const SilentPeer* end() const noexcept { return data + size; }
};

/// lxc-exec on bubblewrap (docs/mxc-1.0.md sections 7.5 and 9.3).
inline constexpr std::array<SilentPeer, 3> bubblewrap_silent_peers{{
    {"127.0.0.0/8", "is the sandbox's own loopback (its network namespace is its own); a host service is reached "
                    "only through runtimeConfig.networkProxy"},
    {"10.0.2.2/32", "is slirp4netns's address for the host, which lxc-exec drops before any allow rule"},
    {"::/0", "is IPv6, which the sandbox never routes (slirp4netns runs without IPv6)"},
}};
inline constexpr SilentPeers bubblewrap_silent{bubblewrap_silent_peers.data(), bubblewrap_silent_peers.size()};

/// Enforcement primitives of one backend, with one executor SDK, for configs of some contracts
/// (the same executor enforces a 0.6.0-alpha and a 0.9.0-alpha config differently). `false` means
/// "accepted but not enforced" (or broken, or refused): a policy relying on it must fail closed,
/// never run weaker than asked.
struct Capabilities {
    Backend backend = Backend::bubblewrap;
    std::string_view sdk_version;    ///< executor SDK version this row describes ("0.9.0")
    std::string_view contracts;      ///< config contracts the row describes, separated by single spaces
    bool read_allowlist = false;     ///< reads limited to granted paths (plus the executor's system baseline)
    bool write_allowlist = false;    ///< writes limited to read-write grants
    bool denied_paths = false;       ///< `deniedPaths` masks files and directories
    bool network_block = false;      ///< egress default deny (legacy `block`) cuts the network
    bool host_filtering = false;     ///< legacy `allowedHosts` / `blockedHosts` enforced
    bool egress_rules = false;       ///< directional egress allow/deny rules enforced (CIDR, ports)
    bool ingress = false;            ///< ingress `allow` and `hostLoopback: allow` enforced (not refused)
    bool proxy_enforced = false;     ///< the proxy is the only way out (not just environment variables)
    bool executor_timeout = false;   ///< the executor kills the whole tree at `process.timeout`
    bool file_grants = false;        ///< a grant naming a file works (else grant its parent directory)
    bool ui_limits = false;          ///< `ui.*` enforced
    Evidence evidence = Evidence::assumed;
    std::string_view source;         ///< where the row comes from
    /// POSIX: the ':'-separated directories the executor may run helper programs from (bwrap; the
    /// network tools). The backend gives the executor exactly those that only root can write
    /// (detail::trusted_helper_dirs) as its PATH, and clamp never grants them read-write.
    std::string_view helper_dirs;
    RenameGuard rename_guard = RenameGuard::none;
    /// POSIX: the space-separated programs the executor runs from those directories to enforce a
    /// network that is more than closed (egress rules, `default: allow`, a proxy). Such a policy is
    /// refused when one of them is missing or untrusted here (detail::find_helper_tools).
    std::string_view network_tools;
    /// POSIX: devices those tools open as the sandbox's user (slirp4netns: /dev/net/tun), checked
    /// for that user before such a run.
    std::string_view network_devices;
    /// Blocks this executor accepts in egress allow rules and never reaches (SilentPeer).
    SilentPeers silent_peers;
    /// The backend's runner ends a run when RunOptions::cancel_fd becomes readable.
    bool cancellation = false;
    /// The backend's runner honours RunOptions' stdin, streaming sinks, run_as and limits.
    bool process_controls = false;
    /// Grants are bind mounts by path (bubblewrap): each must exist before the run, the cwd must lie
    /// inside one, and the command first proves each mount is the file clamp checked (bind_check.hpp).
    bool bind_mounts = false;
};

/// What lxc-exec needs for egress rules on bubblewrap (slirp4netns, iptables, iproute2, util-linux;
/// docs/mxc-1.0.md section 7.6): it looks each one up on its PATH and runs it outside the sandbox.
inline constexpr std::string_view bubblewrap_network_tools =
    "slirp4netns iptables ip6tables iptables-restore ip6tables-restore ip nsenter unshare";

/// Where POSIX executors find their helpers: the system's own directories, never /usr/local (often
/// writable by a group) nor anything a user or a grant could write.
inline constexpr std::string_view system_helper_dirs = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Rows for every (backend, SDK, contract) cordon pins. Sources: docs/mxc-contract.md section e,
/// ../shared/docs/mxc-1.0.md, and tests/integration (bubblewrap rows are re-measured there against
/// the real lxc-exec). Columns: backend, SDK, contracts, read, write, denied, block, host lists,
/// egress rules, ingress, proxy enforced, timeout, file grants, ui, evidence, source, helpers, guard,
/// network tools, network devices, silent peers, cancellation, process controls, bind mounts.
inline constexpr std::array<Capabilities, 9> capability_table{{
    // lxc-exec 1.0.1 at 1.0.0 and 0.9.0-alpha: baseline + grants, tree kill; egress rules in the
    // sandbox's own netns (slirp4netns + iptables); ingress and hostLoopback allow are refused at
    // runner level; runtimeConfig.networkProxy is the only way out (mxc-1.0.md sections 6, 7).
    {Backend::bubblewrap, "1.0.1", "1.0.0 0.9.0-alpha", true, true, true, true, false, true, false, true, true,
     true, false, Evidence::measured, "lxc-exec 1.0.1 (mxc-1.0.md) and tests/integration", system_helper_dirs,
     RenameGuard::bind_ancestors, bubblewrap_network_tools, "/dev/net/tun",
     bubblewrap_silent, true, true, true},
    // lxc-exec 0.9.0 at 0.9.0-alpha: byte-identical argv and rule files to 1.0.1 at 1.0.0 (mxc-1.0.md 4.8).
    {Backend::bubblewrap, "0.9.0", "0.9.0-alpha", true, true, true, true, false, true, false, true, true, true,
     false, Evidence::measured, "lxc-exec 0.9.0 at 0.9.0-alpha (mxc-1.0.md) and tests/integration",
     system_helper_dirs, RenameGuard::bind_ancestors, bubblewrap_network_tools, "/dev/net/tun",
     bubblewrap_silent, true, true, true},
    // lxc-exec 0.9.0 at 0.6/0.7: host lists make it share the host network namespace with no
    // filtering at all (fail-open), so host filtering is false; a proxy is environment variables only.
    {Backend::bubblewrap, "0.9.0", "0.6.0-alpha 0.7.0-alpha", true, true, true, true, false, false, false, false,
     true, true, false, Evidence::measured, "lxc-exec 0.9.0 run under strace and by tests/integration",
     system_helper_dirs, RenameGuard::bind_ancestors, "", "", {}, true, true, true},
    // lxc-exec 0.7.0 binds the whole root read-only, aborts on file denials and leaves the workload
    // running after its timeout.
    {Backend::bubblewrap, "0.7.0", "0.6.0-alpha 0.7.0-alpha", false, true, false, true, false, false, false, false,
     false, true, false, Evidence::measured, "lxc-exec 0.7.0 run under strace (docs/mxc-contract.md e.1)",
     system_helper_dirs, RenameGuard::bind_ancestors, "", "", {}, true, true, true},
    {Backend::seatbelt, "1.0.1", "1.0.0 0.9.0-alpha", true, true, true, true, false, false, false, false, true, true,
     true, Evidence::assumed, "MXC Seatbelt docs; not runnable on Linux", system_helper_dirs, RenameGuard::none,
     "", "", {}, true, true, false},
    {Backend::seatbelt, "0.9.0", "0.9.0-alpha 0.6.0-alpha 0.7.0-alpha", true, true, true, true, false, false, false,
     false, true, true, true, Evidence::assumed, "MXC Seatbelt docs; not runnable on Linux", system_helper_dirs,
     RenameGuard::none, "", "", {}, true, true, false},
    // AppContainer+DACL tier: deny ACEs need DACL mutation and are not relied on; host lists are
    // documented as unenforced; timeouts wedged in the reference integration; file grants do not
    // suffice. Directional rules are documented for the PSEC/WFP tier only: not shown, so refused.
    {Backend::processcontainer, "1.0.1", "1.0.0 0.9.0-alpha", true, true, false, true, false, false, false, false,
     false, false, true, Evidence::assumed,
     "MXC docs; wine cannot host AppContainer (the real wxc-exec 1.0.1 parser accepts every emitted config)", "",
     RenameGuard::object_bound, "", "", {}, false, false, false},
    {Backend::processcontainer, "0.9.0", "0.9.0-alpha 0.6.0-alpha 0.7.0-alpha", true, true, false, true, false, false,
     false, false, false, false, true, Evidence::assumed, "MXC docs; wine cannot host AppContainer", "",
     RenameGuard::object_bound, "", "", {}, false, false, false},
    {Backend::processcontainer, "0.7.0", "0.6.0-alpha 0.7.0-alpha", true, true, false, true, false, false, false,
     false, false, false, true, Evidence::assumed,
     "MXC 0.7.0 README and the entrabot integration; wine cannot host AppContainer", "", RenameGuard::object_bound,
     "", "", {}, false, false, false},
}};

namespace detail {

/// Whether the space-separated `list` holds `word`.
constexpr bool list_has(std::string_view list, std::string_view word) noexcept {
    while (!list.empty()) {
        auto cut = list.find(' ');
        if (list.substr(0, cut) == word) return true;
        list = cut == std::string_view::npos ? std::string_view{} : list.substr(cut + 1);
    }
    return false;
}

/// The first word of a space-separated list.
constexpr std::string_view first_word(std::string_view list) noexcept { return list.substr(0, list.find(' ')); }

}  // namespace detail

/// The row for a backend, executor SDK version and config contract, or nullopt when cordon has
/// none (fail closed).
constexpr std::optional<Capabilities> capabilities_for(Backend backend, std::string_view sdk_version,
                                                       std::string_view contract) noexcept {
    for (const auto& row : capability_table)
        if (row.backend == backend && row.sdk_version == sdk_version && detail::list_has(row.contracts, contract))
            return row;
    return std::nullopt;
}

/// The row for a backend and SDK at the contract cordon prefers for that SDK (the first row listed
/// for the pair, whose first contract is the newest cordon emits for it), or nullopt.
constexpr std::optional<Capabilities> capabilities_for(Backend backend, std::string_view sdk_version) noexcept {
    for (const auto& row : capability_table)
        if (row.backend == backend && row.sdk_version == sdk_version) return row;
    return std::nullopt;
}

/// The SDK version cordon installs and verifies by default (scripts/setup_sandbox.sh).
inline constexpr std::string_view default_sdk_version = "1.0.1";

}  // namespace cordon
