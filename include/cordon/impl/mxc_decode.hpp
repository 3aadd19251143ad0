// SPDX-License-Identifier: MIT
// cordon: typed, strict decoding of an MXC config value into a Policy, collecting every violation:
// the parts every contract shares, with the network handed to the contract family's codec
// (part of the implementation of mxc_json.hpp).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // std::declval, std::pair
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/impl/mxc_codec_directional.hpp"
#include "cordon/impl/mxc_codec_legacy.hpp"
#include "cordon/impl/mxc_reader.hpp"
#include "cordon/names.hpp"
#include "cordon/policy.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

/// Root keys of a contract, in the executor's order (its "expected one of" list).
inline Keys root_keys(const Contract& c) {
    Keys keys;
    if (c.annotations) keys.insert(keys.end(), {"$schema", "_comment"});
    keys.insert(keys.end(), {"version", "containerId", "containment", "lifecycle", "process", "filesystem",
                             "fallback", "network", "ui"});
    if (c.aliases) keys.push_back("appContainer");
    keys.insert(keys.end(), {"processContainer", "lxc"});
    if (c.seatbelt && c.aliases) keys.push_back("macos_sandbox");
    if (c.seatbelt) keys.push_back("seatbelt");
    if (c.directional_network) keys.push_back("runtimeConfig");
    if (c.windows_09) keys.insert(keys.end(), {"telemetry", "wslc"});
    return keys;
}

/// Containment values of a contract, in the executor's order.
inline Keys containment_names(const Contract& c) {
    Keys names{"process", "processcontainer"};
    if (c.aliases) names.push_back("appcontainer");
    names.insert(names.end(), {"lxc", "bubblewrap"});
    if (c.seatbelt) names.push_back("seatbelt");
    if (c.seatbelt && c.aliases) names.push_back("macos_sandbox");
    if (c.windows_09) names.insert(names.end(), {"isolation_session", "wslc"});
    return names;
}

// Reads one config. Every check reports to the reader's violations and decoding goes on, so a user
// sees all problems at once; the decoded Policy is meaningful only when no violation was added.
class MxcDecoder : public MxcReader {
public:
    using MxcReader::MxcReader;

    Policy decode(const boost::json::value& root) {
        Policy policy;
        const boost::json::object* obj = as_object(root, "");
        if (!obj) return policy;
        check_keys(*obj, "", root_keys(contract()));
        if (contract().annotations) string_field(*obj, "", "$schema");
        policy.container_id = string_field(*obj, "", "containerId");
        policy.containment = enum_field<Containment>(*obj, "", "containment", containment_names(contract()));
        if (auto* v = obj->if_contains("process")) policy.process = process(*v, "/process");
        else add("", "missing required field `process`");
        if (auto* v = obj->if_contains("filesystem")) policy.filesystem = filesystem(*v, "/filesystem");
        if (auto* v = obj->if_contains("lifecycle")) policy.lifecycle = lifecycle(*v, "/lifecycle");
        if (auto* v = obj->if_contains("fallback")) policy.fallback = fallback(*v, "/fallback");
        if (auto* v = obj->if_contains("ui")) policy.ui = ui(*v, "/ui");
        policy.process_container = aliased_section(*obj, "processContainer", "appContainer",
                                                   [this](const auto& v, const auto& p) { return process_container(v, p); });
        if (auto* v = obj->if_contains("lxc")) policy.lxc = lxc(*v, "/lxc");
        if (contract().seatbelt)
            policy.seatbelt = aliased_section(*obj, "seatbelt", "macos_sandbox",
                                              [this](const auto& v, const auto& p) { return seatbelt(v, p); });
        if (contract().windows_09) {
            if (auto* t = object_field(*obj, "", "telemetry")) policy.telemetry = telemetry(*t);
            if (auto* w = object_field(*obj, "", "wslc")) policy.wslc = wslc(*w);
        }
        if (contract().family == ContractFamily::legacy) LegacyCodec::decode_network(*this, *obj, policy);
        else DirectionalCodec::decode_network(*this, *obj, policy);
        check_backend_sections(*obj, policy.containment);
        return policy;
    }

protected:  // the section readers, which the ceiling decoder (ceiling_decode.hpp) shares
    ProcessSpec process(const boost::json::value& v, const std::string& pointer) {
        ProcessSpec spec;
        auto* obj = as_object(v, pointer);
        if (!obj) return spec;
        if (contract().inherit_default_env) check_keys(*obj, pointer, {"commandLine", "cwd", "env", "inheritDefaultEnv", "timeout"});
        else check_keys(*obj, pointer, {"commandLine", "cwd", "env", "timeout"});
        if (!obj->contains("commandLine")) {
            add(pointer, "missing required field `commandLine`");
        } else if (auto s = string_field(*obj, pointer, "commandLine")) {
            if (s->empty()) add(pointer + "/commandLine", "must not be empty");
            spec.command_line = std::move(*s);
        }
        spec.cwd = string_field(*obj, pointer, "cwd");
        // lxc-exec 1.0.1 does not look into env items at parse time (a NUL fails only the real run).
        const bool directional = contract().family == ContractFamily::directional;
        for (auto& entry : string_list(*obj, pointer, "env", nullptr, directional)) spec.env.push_back(EnvVar::parse(entry));
        // Directional contracts: an absent `env` is the backend's default environment.
        if (contract().inherit_default_env) {
            auto inherit = bool_field(*obj, pointer, "inheritDefaultEnv");
            spec.inherit_default_env = !obj->contains("env") || inherit.value_or(false);
        }
        if (auto* t = obj->if_contains("timeout")) spec.timeout = timeout(*t, pointer + "/timeout");
        return spec;
    }

    Timeout timeout(const boost::json::value& v, const std::string& pointer) {
        const std::string expected =
            "an integer from 0 to " + std::to_string(Timeout::max_ms) + " (milliseconds; 0 means no timeout)";
        auto n = integer_of(v);
        if (n && *n >= 0 && *n <= Timeout::max_ms) return Timeout::ms(static_cast<std::uint32_t>(*n));
        if (v.is_int64() || v.is_uint64()) {
            add(pointer, "expected " + std::string(expected) + ", got " +
                             (v.is_int64() ? std::to_string(v.get_int64()) : std::to_string(v.get_uint64())));
        } else {
            type_error(v, pointer, expected);
        }
        return Timeout::none();
    }

    std::vector<std::string> path_list(const boost::json::object& obj, const std::string& pointer,
                                       std::string_view key) {
        return string_list(obj, pointer, key, [](std::string_view p) -> const char* {
            if (is_blank(p)) return "path is empty or only whitespace";
            if (p.find('"') != std::string_view::npos) return "path contains '\"', which every MXC executor rejects in paths";
            return nullptr;
        });
    }

    FilesystemSpec filesystem(const boost::json::value& v, const std::string& pointer) {
        FilesystemSpec spec;
        auto* obj = as_object(v, pointer);
        if (!obj) return spec;
        check_keys(*obj, pointer, {"readwritePaths", "readonlyPaths", "deniedPaths"});
        spec.readwrite = path_list(*obj, pointer, "readwritePaths");
        spec.readonly = path_list(*obj, pointer, "readonlyPaths");
        spec.denied = path_list(*obj, pointer, "deniedPaths");
        return spec;
    }

    std::optional<LifecycleSpec> lifecycle(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"destroyOnExit", "preservePolicy"});
        return LifecycleSpec{bool_field(*obj, pointer, "destroyOnExit"), bool_field(*obj, pointer, "preservePolicy")};
    }

    std::optional<FallbackSpec> fallback(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"allowDaclMutation"});
        return FallbackSpec{bool_field(*obj, pointer, "allowDaclMutation")};
    }

    std::optional<UiSpec> ui(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"disable", "clipboard", "injection"});
        return UiSpec{bool_field(*obj, pointer, "disable"),
                      enum_field<ClipboardAccess>(*obj, pointer, "clipboard"),
                      bool_field(*obj, pointer, "injection")};
    }

    template <class Decode>
    auto aliased_section(const boost::json::object& obj, std::string_view key, std::string_view alias, Decode decode)
        -> decltype(decode(std::declval<const boost::json::value&>(), std::declval<const std::string&>())) {
        auto* primary = obj.if_contains(key);
        auto* legacy = contract().aliases ? obj.if_contains(alias) : nullptr;
        if (primary && legacy) {
            add(pointer_child("", alias), "duplicate section: `" + std::string(alias) + "` is the legacy name of `" +
                                              std::string(key) + "`; give only one");
        }
        if (primary) return decode(*primary, pointer_child("", key));
        if (legacy) return decode(*legacy, pointer_child("", alias));
        return std::nullopt;
    }

    std::optional<ProcessContainerSpec> process_container(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        const Contract& c = contract();
        Keys keys{"leastPrivilege"};
        if (c.process_container_08) keys.push_back("learningMode");
        keys.push_back("capabilities");
        if (c.process_container_08) keys.push_back("captureDenials");
        keys.push_back("ui");
        if (c.windows_09) keys.push_back("filesystem");
        if (c.process_container_08) keys.push_back("network");
        check_keys(*obj, pointer, keys);
        ProcessContainerSpec spec;
        spec.least_privilege = bool_field(*obj, pointer, "leastPrivilege");
        spec.capabilities = string_list(*obj, pointer, "capabilities");
        if (const auto* caps = obj->if_contains("capabilities"); c.process_container_08 && caps && caps->is_array())
            for (std::size_t i = 0; i < caps->get_array().size(); ++i)  // the JSON index, for the pointer
                if (const auto& cap = caps->get_array()[i]; cap.is_string())
                    check_capability(std::string(cap.get_string()), pointer_child(pointer + "/capabilities", i));
        if (auto* u = object_field(*obj, pointer, "ui")) spec.ui = process_container_ui(*u, pointer + "/ui");
        if (c.process_container_08) process_container_08(*obj, pointer, spec);
        if (c.windows_09)
            if (auto* fs = object_field(*obj, pointer, "filesystem")) {
                check_keys(*fs, pointer + "/filesystem", {"enumeratePaths"});
                if (fs->contains("enumeratePaths"))
                    spec.enumerate_paths = path_list(*fs, pointer + "/filesystem", "enumeratePaths");
            }
        return spec;
    }

    // From 0.8.0-alpha: several capabilities are separate entries, and the logging modes are reserved.
    void check_capability(const std::string& cap, const std::string& at) {
        if (cap.find(',') != std::string::npos)
            add(at, "capability must not contain a comma; give each capability as its own array entry");
        std::string upper = cap;
        for (char& ch : upper) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
        if (upper == "LEARNINGMODELOGGING" || upper == "PERMISSIVELEARNINGMODE")
            add(at, "learningModeLogging and permissiveLearningMode are reserved; use learningMode or captureDenials");
    }

    ProcessContainerUi process_container_ui(const boost::json::object& uo, const std::string& here) {
        check_keys(uo, here, {"isolation", "desktopSystemControl", "systemSettings", "ime"});
        return ProcessContainerUi{
            enum_field<UiIsolation>(uo, here, "isolation"),
            bool_field(uo, here, "desktopSystemControl"), string_field(uo, here, "systemSettings"),
            bool_field(uo, here, "ime")};
    }

    void process_container_08(const boost::json::object& obj, const std::string& pointer, ProcessContainerSpec& spec) {
        spec.learning_mode = bool_field(obj, pointer, "learningMode");
        if (auto* cd = object_field(obj, pointer, "captureDenials")) {
            std::string here = pointer + "/captureDenials";
            check_keys(*cd, here, {"mode", "outputPath", "retainEtl"});
            spec.capture_denials = CaptureDenials{enum_field<CaptureMode>(*cd, here, "mode"),
                                                  string_field(*cd, here, "outputPath"),
                                                  bool_field(*cd, here, "retainEtl")};
        }
        if (auto* net = object_field(obj, pointer, "network")) {
            check_keys(*net, pointer + "/network", {"allowedProxyPeer"});
            spec.allowed_proxy_peer = string_field(*net, pointer + "/network", "allowedProxyPeer");
        }
    }

    std::optional<LxcSpec> lxc(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"distribution", "release"});
        LxcSpec spec;
        for (auto [key, field] : {std::pair{"distribution", &spec.distribution}, std::pair{"release", &spec.release}}) {
            if (!obj->contains(key)) add(pointer, "missing required field `" + std::string(key) + "`");
            else if (auto s = string_field(*obj, pointer, key)) *field = std::move(*s);
        }
        return spec;
    }

    std::optional<SeatbeltSpec> seatbelt(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        if (contract().seatbelt_launch_method)
            check_keys(*obj, pointer,
                       {"profileOverride", "guiAccess", "launchMethod", "nestedPty", "keychainAccess", "extraMachLookups"});
        else check_keys(*obj, pointer, {"profileOverride", "guiAccess", "nestedPty", "keychainAccess", "extraMachLookups"});
        SeatbeltSpec spec;
        spec.profile_override = string_field(*obj, pointer, "profileOverride");
        spec.gui_access = bool_field(*obj, pointer, "guiAccess");
        if (contract().seatbelt_launch_method)
            spec.launch_method = enum_field<LaunchMethod>(*obj, pointer, "launchMethod");
        spec.nested_pty = bool_field(*obj, pointer, "nestedPty");
        if (bool_field(*obj, pointer, "keychainAccess").value_or(false))
            add(pointer + "/keychainAccess", "keychain access is never grantable through cordon; only false is accepted");
        spec.extra_mach_lookups = string_list(*obj, pointer, "extraMachLookups");
        return spec;
    }

    TelemetrySpec telemetry(const boost::json::object& obj) {
        check_keys(obj, "/telemetry", {"enabled"});
        return TelemetrySpec{bool_field(obj, "/telemetry", "enabled")};
    }

    WslcSpec wslc(const boost::json::object& obj) {
        const std::string at = "/wslc";
        check_keys(obj, at,
                   {"targetOs", "image", "imageTarPath", "cpuCount", "memoryMb", "gpu", "storagePath", "portMappings"});
        WslcSpec spec;
        spec.target_os = string_field(obj, at, "targetOs");
        spec.image = string_field(obj, at, "image");
        spec.image_tar_path = string_field(obj, at, "imageTarPath");
        spec.storage_path = string_field(obj, at, "storagePath");
        if (auto n = integer_field(obj, at, "cpuCount", 0, 4294967295u)) spec.cpu_count = static_cast<std::uint32_t>(*n);
        spec.memory_mb = integer_field(obj, at, "memoryMb", 0, static_cast<std::uint64_t>(-1));
        spec.gpu = bool_field(obj, at, "gpu");
        auto* maps = obj.if_contains("portMappings");
        if (!maps) return spec;
        if (!maps->is_array()) {
            type_error(*maps, at + "/portMappings", "an array of port mappings");
            return spec;
        }
        spec.port_mappings.emplace();
        for (std::size_t i = 0; i < maps->get_array().size(); ++i)
            if (auto m = port_mapping(maps->get_array()[i], pointer_child(at + "/portMappings", i)))
                spec.port_mappings->push_back(*m);
        return spec;
    }

    std::optional<WslcPortMapping> port_mapping(const boost::json::value& v, const std::string& at) {
        auto* m = as_object(v, at);
        if (!m) return std::nullopt;
        check_keys(*m, at, {"windowsPort", "containerPort", "protocol"});
        for (const char* key : {"windowsPort", "containerPort"})
            if (!m->contains(key)) add(at, "missing required field `" + std::string(key) + "`");
        if (auto proto = string_field(*m, at, "protocol"); proto && *proto != "tcp")
            add(at + "/protocol", "unknown value \"" + *proto + "\"; expected \"tcp\"");
        auto w = integer_field(*m, at, "windowsPort", 1, 65535);
        auto c = integer_field(*m, at, "containerPort", 1, 65535);
        if (!w || !c) return std::nullopt;
        return WslcPortMapping{static_cast<std::uint16_t>(*w), static_cast<std::uint16_t>(*c)};
    }

    // Each executor accepts only the section of the backend it runs. cordon asks for the explicit
    // containment even where a host would resolve `process` to that backend, so that a config's
    // meaning does not depend on the machine that reads it.
    void check_backend_sections(const boost::json::object& obj, std::optional<Containment> containment) {
        Containment c = containment.value_or(Containment::process);
        std::string containment_text = containment
                                           ? "\"" + std::string(to_string(*containment)) + "\""
                                           : std::string("absent (\"process\", which each executor resolves for its own host)");
        auto require = [&](std::initializer_list<std::string_view> keys, Containment needed) {
            for (auto key : keys) {
                if (!obj.contains(key) || c == needed) continue;
                add(pointer_child("", key), "section `" + std::string(key) + "` requires \"containment\": \"" +
                                                std::string(to_string(needed)) + "\", but containment is " +
                                                containment_text + "; a config may carry only its own backend's section");
            }
        };
        require({"processContainer", "appContainer"}, Containment::processcontainer);
        require({"lxc"}, Containment::lxc);
        if (contract().seatbelt) require({"seatbelt", "macos_sandbox"}, Containment::seatbelt);
        if (contract().windows_09) require({"wslc"}, Containment::wslc);
    }
};

}  // namespace cordon::detail
