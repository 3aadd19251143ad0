// SPDX-License-Identifier: MIT
// cordon: Policy -> MXC config value, emitting only what the policy sets (absent stays absent)
// (part of the implementation of mxc_json.hpp).
#pragma once

#include <cstdint>
#include <type_traits>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/impl/mxc_codec_directional.hpp"
#include "cordon/impl/mxc_codec_legacy.hpp"
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
    else if constexpr (std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>) obj[key] = std::uint64_t(*value);
    else obj[key] = *value;
}

inline void put_list(boost::json::object& obj, const char* key, const std::vector<std::string>& items) {
    if (!items.empty()) obj[key] = json_strings(items);
}

// `process`: a directional contract always gets `env` (an absent one would be the backend's default
// environment, not the empty one the model says), and `inheritDefaultEnv` when the model inherits.
inline boost::json::object encode_process(const ProcessSpec& process, const Contract& contract) {
    boost::json::object o;
    o["commandLine"] = process.command_line;
    put_optional(o, "cwd", process.cwd);
    if (!process.env.empty() || contract.inherit_default_env) {
        boost::json::array env;
        for (const auto& e : process.env) env.emplace_back(e.entry());
        o["env"] = std::move(env);
    }
    if (process.inherit_default_env) o["inheritDefaultEnv"] = true;
    if (!process.timeout.is_none()) o["timeout"] = static_cast<std::int64_t>(process.timeout.wire_value());
    return o;
}

inline boost::json::object encode_process_container(const ProcessContainerSpec& pc) {
    boost::json::object o;
    put_optional(o, "leastPrivilege", pc.least_privilege);
    put_optional(o, "learningMode", pc.learning_mode);
    put_list(o, "capabilities", pc.capabilities);
    if (pc.capture_denials) {
        boost::json::object c;
        put_optional(c, "mode", pc.capture_denials->mode);
        put_optional(c, "outputPath", pc.capture_denials->output_path);
        put_optional(c, "retainEtl", pc.capture_denials->retain_etl);
        o["captureDenials"] = std::move(c);
    }
    if (pc.ui) {
        boost::json::object u;
        put_optional(u, "isolation", pc.ui->isolation);
        put_optional(u, "desktopSystemControl", pc.ui->desktop_system_control);
        put_optional(u, "systemSettings", pc.ui->system_settings);
        put_optional(u, "ime", pc.ui->ime);
        o["ui"] = std::move(u);
    }
    if (pc.enumerate_paths) o["filesystem"] = boost::json::object{{"enumeratePaths", json_strings(*pc.enumerate_paths)}};
    if (pc.allowed_proxy_peer) o["network"] = boost::json::object{{"allowedProxyPeer", *pc.allowed_proxy_peer}};
    return o;
}

inline boost::json::object encode_seatbelt(const SeatbeltSpec& s) {
    boost::json::object o;
    put_optional(o, "profileOverride", s.profile_override);
    put_optional(o, "guiAccess", s.gui_access);
    put_optional(o, "launchMethod", s.launch_method);
    put_optional(o, "nestedPty", s.nested_pty);
    put_list(o, "extraMachLookups", s.extra_mach_lookups);
    return o;
}

inline boost::json::object encode_wslc(const WslcSpec& w) {
    boost::json::object o;
    put_optional(o, "targetOs", w.target_os);
    put_optional(o, "image", w.image);
    put_optional(o, "imageTarPath", w.image_tar_path);
    put_optional(o, "cpuCount", w.cpu_count);
    put_optional(o, "memoryMb", w.memory_mb);
    put_optional(o, "gpu", w.gpu);
    put_optional(o, "storagePath", w.storage_path);
    if (w.port_mappings) {
        boost::json::array maps;
        for (const auto& m : *w.port_mappings)
            maps.emplace_back(boost::json::object{{"windowsPort", static_cast<std::int64_t>(m.windows_port)},
                                                  {"containerPort", static_cast<std::int64_t>(m.container_port)}});
        o["portMappings"] = std::move(maps);
    }
    return o;
}

/// Key order follows the upstream samples. The network goes through the contract family's codec.
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
    root["process"] = encode_process(p.process, contract);
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
    if (contract.family == ContractFamily::legacy) LegacyCodec::encode_network(p, contract, root);
    else DirectionalCodec::encode_network(p, root);
    if (p.ui) {
        boost::json::object o;
        put_optional(o, "disable", p.ui->disable);
        put_optional(o, "clipboard", p.ui->clipboard);
        put_optional(o, "injection", p.ui->injection);
        root["ui"] = std::move(o);
    }
    if (p.process_container) root["processContainer"] = encode_process_container(*p.process_container);
    if (p.lxc) root["lxc"] = boost::json::object{{"distribution", p.lxc->distribution}, {"release", p.lxc->release}};
    if (p.seatbelt) root["seatbelt"] = encode_seatbelt(*p.seatbelt);
    if (p.telemetry) {
        boost::json::object o;
        put_optional(o, "enabled", p.telemetry->enabled);
        root["telemetry"] = std::move(o);
    }
    if (p.wslc) root["wslc"] = encode_wslc(*p.wslc);
    return root;
}

}  // namespace cordon::detail
