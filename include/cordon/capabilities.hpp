// SPDX-License-Identifier: MIT
// cordon: what each backend really enforces, per executor SDK version, as data.
#pragma once

#include <array>
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

/// Enforcement primitives for 0.6.0-alpha configs. `false` means "accepted but not enforced" (or
/// broken): a policy relying on it must fail closed, never run weaker than asked.
struct Capabilities {
    Backend backend = Backend::bubblewrap;
    std::string_view sdk_version;    ///< executor SDK version this row describes ("0.9.0")
    bool read_allowlist = false;     ///< reads limited to granted paths (plus the executor's system baseline)
    bool write_allowlist = false;    ///< writes limited to read-write grants
    bool denied_paths = false;       ///< `deniedPaths` masks files and directories
    bool network_block = false;      ///< `defaultPolicy: block` cuts the network
    bool host_filtering = false;     ///< `allowedHosts` / `blockedHosts` enforced
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
};

/// What lxc-exec needs for egress rules on bubblewrap (slirp4netns, iptables, iproute2, util-linux;
/// docs/mxc-1.0.md section 7.6): it looks each one up on its PATH and runs it outside the sandbox.
inline constexpr std::string_view bubblewrap_network_tools =
    "slirp4netns iptables ip6tables iptables-restore ip6tables-restore ip nsenter unshare";

/// Where POSIX executors find their helpers: the system's own directories, never /usr/local (often
/// writable by a group) nor anything a user or a grant could write.
inline constexpr std::string_view system_helper_dirs = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Rows for every (backend, SDK) pair cordon pins. Sources: docs/mxc-contract.md section e, and
/// tests/integration (bubblewrap rows are re-measured there against the real lxc-exec).
inline constexpr std::array<Capabilities, 5> capability_table{{
    // lxc-exec 0.9.0: baseline + grants only, tree kill on timeout; host lists make it share the
    // host network namespace with no filtering at all (fail-open), so host filtering is false.
    {Backend::bubblewrap, "0.9.0", true, true, true, true, false, true, true, false, Evidence::measured,
     "lxc-exec 0.9.0 run under strace and by tests/integration", system_helper_dirs,
     RenameGuard::bind_ancestors, bubblewrap_network_tools, "/dev/net/tun"},
    // lxc-exec 0.7.0 binds the whole root read-only, aborts on file denials and leaves the workload
    // running after its timeout.
    {Backend::bubblewrap, "0.7.0", false, true, false, true, false, false, true, false, Evidence::measured,
     "lxc-exec 0.7.0 run under strace (docs/mxc-contract.md e.1)", system_helper_dirs,
     RenameGuard::bind_ancestors, "", ""},
    {Backend::seatbelt, "0.9.0", true, true, true, true, false, true, true, true, Evidence::assumed,
     "MXC Seatbelt docs; not runnable on Linux", system_helper_dirs, RenameGuard::none, "", ""},
    // AppContainer+DACL tier: deny ACEs need DACL mutation and are not relied on; host lists are
    // documented as unenforced; timeouts wedged in the reference integration; file grants do not suffice.
    {Backend::processcontainer, "0.7.0", true, true, false, true, false, false, false, true, Evidence::assumed,
     "MXC 0.7.0 README and the entrabot integration; wine cannot host AppContainer", "",
     RenameGuard::object_bound, "", ""},
    {Backend::processcontainer, "0.9.0", true, true, false, true, false, false, false, true, Evidence::assumed,
     "MXC docs; wine cannot host AppContainer", "", RenameGuard::object_bound, "", ""},
}};

/// The row for a backend and executor SDK version, or nullopt when cordon has none (fail closed).
constexpr std::optional<Capabilities> capabilities_for(Backend backend, std::string_view sdk_version) noexcept {
    for (const auto& row : capability_table)
        if (row.backend == backend && row.sdk_version == sdk_version) return row;
    return std::nullopt;
}

/// The SDK version cordon installs and verifies by default (scripts/setup_sandbox.sh).
inline constexpr std::string_view default_sdk_version = "0.9.0";

}  // namespace cordon
