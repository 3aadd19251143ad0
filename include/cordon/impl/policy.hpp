// SPDX-License-Identifier: MIT
// cordon: implementation of policy.hpp: member-wise equality of a policy and its parts.
#pragma once

#include <tuple>  // std::forward_as_tuple

#include "cordon/policy.hpp"

namespace cordon {

// Member-wise equality, each member named once.
#define CORDON_DETAIL_EQ(Type, ...)                                                    \
    CORDON_FUNC bool operator==(const Type& a, const Type& b) {                        \
        auto tie = [](const Type& x) { return std::forward_as_tuple(__VA_ARGS__); };   \
        return tie(a) == tie(b);                                                       \
    }

CORDON_FUNC bool operator==(const ProxyLocalhost& a, const ProxyLocalhost& b) { return a.port == b.port; }
CORDON_FUNC bool operator==(const ProxyBuiltinTestServer&, const ProxyBuiltinTestServer&) { return true; }
CORDON_FUNC bool operator==(const ProxyUrl& a, const ProxyUrl& b) { return a.url == b.url; }
CORDON_DETAIL_EQ(ProcessSpec, x.command_line, x.cwd, x.env, x.inherit_default_env, x.timeout)
CORDON_DETAIL_EQ(FilesystemSpec, x.readwrite, x.readonly, x.denied)
CORDON_DETAIL_EQ(LifecycleSpec, x.destroy_on_exit, x.preserve_policy)
CORDON_DETAIL_EQ(FallbackSpec, x.allow_dacl_mutation)
CORDON_DETAIL_EQ(Ingress, x.default_action, x.host_loopback)
CORDON_DETAIL_EQ(LegacyNetwork, x.enforcement_mode, x.allowed_hosts, x.blocked_hosts, x.allow_local_network)
CORDON_DETAIL_EQ(NetworkSpec, x.egress, x.ingress, x.proxy, x.legacy)
CORDON_DETAIL_EQ(UiSpec, x.disable, x.clipboard, x.injection)
CORDON_DETAIL_EQ(ProcessContainerUi, x.isolation, x.desktop_system_control, x.system_settings, x.ime)
CORDON_DETAIL_EQ(CaptureDenials, x.mode, x.output_path, x.retain_etl)
CORDON_DETAIL_EQ(ProcessContainerSpec, x.least_privilege, x.learning_mode, x.capabilities, x.capture_denials, x.ui,
                 x.enumerate_paths, x.allowed_proxy_peer)
CORDON_DETAIL_EQ(LxcSpec, x.distribution, x.release)
CORDON_DETAIL_EQ(SeatbeltSpec, x.profile_override, x.gui_access, x.launch_method, x.nested_pty,
                 x.extra_mach_lookups)
CORDON_DETAIL_EQ(TelemetrySpec, x.enabled)
CORDON_DETAIL_EQ(WslcPortMapping, x.windows_port, x.container_port)
CORDON_DETAIL_EQ(WslcSpec, x.target_os, x.image, x.image_tar_path, x.storage_path, x.cpu_count, x.memory_mb, x.gpu,
                 x.port_mappings)
CORDON_DETAIL_EQ(Policy, x.container_id, x.containment, x.process, x.filesystem, x.lifecycle, x.fallback,
                 x.network, x.ui, x.process_container, x.lxc, x.seatbelt, x.telemetry, x.wslc, x.run_as, x.limits,
                 x.allowed_domains)
}  // namespace cordon

#undef CORDON_DETAIL_EQ
