// SPDX-License-Identifier: MIT
// cordon: Policy -> MXC config value, emitting only what the policy sets (absent stays absent)
// (part of the implementation of mxc_json.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/names.hpp"
#include "cordon/policy.hpp"

namespace cordon::detail {

inline boost::json::array json_strings(const std::vector<std::string>& items) {
    boost::json::array out;
    out.reserve(items.size());
    for (const auto& s : items) out.emplace_back(s);
    return out;
}

template <class T>
void put_optional(boost::json::object& obj, const char* key, const std::optional<T>& value) {
    if (!value) return;
    if constexpr (std::is_enum_v<T>) obj[key] = to_string(*value);
    else obj[key] = *value;
}

inline void put_list(boost::json::object& obj, const char* key, const std::vector<std::string>& items) {
    if (!items.empty()) obj[key] = json_strings(items);
}

/// Key order follows docs/mxc-contract.md so emitted configs read like the upstream samples.
inline boost::json::object encode_policy(const Policy& p, const Contract& contract) {
    boost::json::object root;
    root["version"] = contract.version;
    put_optional(root, "containerId", p.container_id);
    put_optional(root, "containment", p.containment);
    if (p.lifecycle) {
        boost::json::object o;
        put_optional(o, "destroyOnExit", p.lifecycle->destroy_on_exit);
        put_optional(o, "preservePolicy", p.lifecycle->preserve_policy);
        root["lifecycle"] = std::move(o);
    }
    {
        boost::json::object o;
        o["commandLine"] = p.process.command_line;
        put_optional(o, "cwd", p.process.cwd);
        if (!p.process.env.empty()) {
            boost::json::array env;
            for (const auto& e : p.process.env) env.emplace_back(e.entry());
            o["env"] = std::move(env);
        }
        if (!p.process.timeout.is_none()) o["timeout"] = static_cast<std::int64_t>(p.process.timeout.wire_value());
        root["process"] = std::move(o);
    }
    if (!p.filesystem.empty()) {
        boost::json::object o;
        put_list(o, "readwritePaths", p.filesystem.readwrite);
        put_list(o, "readonlyPaths", p.filesystem.readonly);
        put_list(o, "deniedPaths", p.filesystem.denied);
        root["filesystem"] = std::move(o);
    }
    if (p.fallback) {
        boost::json::object o;
        put_optional(o, "allowDaclMutation", p.fallback->allow_dacl_mutation);
        root["fallback"] = std::move(o);
    }
    if (p.network) {
        const NetworkSpec& n = *p.network;
        boost::json::object o;
        if (n.egress.default_action) o["defaultPolicy"] = to_string(to_network_default(*n.egress.default_action));
        put_optional(o, "enforcementMode", n.legacy.enforcement_mode);
        put_list(o, "allowedHosts", n.legacy.allowed_hosts);
        put_list(o, "blockedHosts", n.legacy.blocked_hosts);
        put_optional(o, "allowLocalNetwork", n.legacy.allow_local_network);
        if (n.proxy) {
            boost::json::object proxy;
            if (auto* l = std::get_if<ProxyLocalhost>(&*n.proxy)) proxy["localhost"] = static_cast<std::int64_t>(l->port);
            else if (auto* u = std::get_if<ProxyUrl>(&*n.proxy)) proxy["url"] = u->url;
            else proxy["builtinTestServer"] = true;
            o["proxy"] = std::move(proxy);
        }
        root["network"] = std::move(o);
    }
    if (p.ui) {
        boost::json::object o;
        put_optional(o, "disable", p.ui->disable);
        put_optional(o, "clipboard", p.ui->clipboard);
        put_optional(o, "injection", p.ui->injection);
        root["ui"] = std::move(o);
    }
    if (p.process_container) {
        const ProcessContainerSpec& pc = *p.process_container;
        boost::json::object o;
        put_optional(o, "leastPrivilege", pc.least_privilege);
        put_list(o, "capabilities", pc.capabilities);
        if (pc.ui) {
            boost::json::object u;
            put_optional(u, "isolation", pc.ui->isolation);
            put_optional(u, "desktopSystemControl", pc.ui->desktop_system_control);
            put_optional(u, "systemSettings", pc.ui->system_settings);
            put_optional(u, "ime", pc.ui->ime);
            o["ui"] = std::move(u);
        }
        root["processContainer"] = std::move(o);
    }
    if (p.lxc) root["lxc"] = boost::json::object{{"distribution", p.lxc->distribution}, {"release", p.lxc->release}};
    if (p.seatbelt) {
        const SeatbeltSpec& s = *p.seatbelt;
        boost::json::object o;
        put_optional(o, "profileOverride", s.profile_override);
        put_optional(o, "guiAccess", s.gui_access);
        put_optional(o, "launchMethod", s.launch_method);
        put_optional(o, "nestedPty", s.nested_pty);
        put_list(o, "extraMachLookups", s.extra_mach_lookups);
        root["seatbelt"] = std::move(o);
    }
    return root;
}

}  // namespace cordon::detail
