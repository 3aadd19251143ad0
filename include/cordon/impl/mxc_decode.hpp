// SPDX-License-Identifier: MIT
// cordon: typed, strict decoding of an MXC config value into a Policy, collecting every violation
// (part of the implementation of mxc_json.hpp).
#pragma once

#include <cstdint>  // INT64_MAX
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>  // std::is_pointer_v
#include <utility>      // std::declval, std::pair
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/proxy_url.hpp"
#include "cordon/names.hpp"
#include "cordon/policy.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

inline std::string_view json_kind_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null: return "null";
        case boost::json::kind::bool_: return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64: return "an integer";
        case boost::json::kind::double_: return "a non-integer number";
        case boost::json::kind::string: return "a string";
        case boost::json::kind::array: return "an array";
        case boost::json::kind::object: return "an object";
    }
    return "a value";
}

/// An integer JSON value as int64 (Boost.JSON stores unsigned values it was given as uint64).
inline std::optional<std::int64_t> integer_of(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

inline std::string quoted_list(std::initializer_list<std::string_view> names, char quote = '`') {
    std::string out;
    for (auto name : names) {
        if (!out.empty()) out += ", ";
        out += quote;
        out += name;
        out += quote;
    }
    return out;
}

inline bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\n\r\v\f") == std::string_view::npos;
}

// Reads one config. Every check reports to `out` and decoding goes on, so a user sees all problems
// at once; the decoded Policy is meaningful only when no violation was added.
class MxcDecoder {
public:
    MxcDecoder(const Contract& contract, Violations& out) : contract_(contract), out_(out) {}

    Policy decode(const boost::json::value& root) {
        Policy policy;
        const boost::json::object* obj = as_object(root, "");
        if (!obj) return policy;
        std::vector<std::string_view> allowed{"version", "containerId", "containment", "lifecycle", "process",
                                              "filesystem", "fallback", "network", "ui", "appContainer",
                                              "processContainer", "lxc"};
        if (contract_.annotations) allowed.insert(allowed.begin(), {"$schema", "_comment"});
        if (contract_.seatbelt) allowed.insert(allowed.end(), {"macos_sandbox", "seatbelt"});
        check_keys(*obj, "", allowed);
        if (contract_.annotations) string_field(*obj, "", "$schema");

        policy.container_id = string_field(*obj, "", "containerId");
        policy.containment = containment(*obj);
        if (auto* v = obj->if_contains("process")) {
            policy.process = process(*v, "/process");
        } else {
            add("", "missing required field `process`");
        }
        if (auto* v = obj->if_contains("filesystem")) policy.filesystem = filesystem(*v, "/filesystem");
        if (auto* v = obj->if_contains("lifecycle")) policy.lifecycle = lifecycle(*v, "/lifecycle");
        if (auto* v = obj->if_contains("fallback")) policy.fallback = fallback(*v, "/fallback");
        if (auto* v = obj->if_contains("network")) policy.network = network(*v, "/network");
        if (auto* v = obj->if_contains("ui")) policy.ui = ui(*v, "/ui");
        policy.process_container = aliased_section(*obj, "processContainer", "appContainer",
                                                   [this](const auto& v, const auto& p) { return process_container(v, p); });
        if (auto* v = obj->if_contains("lxc")) policy.lxc = lxc(*v, "/lxc");
        if (contract_.seatbelt)
            policy.seatbelt = aliased_section(*obj, "seatbelt", "macos_sandbox",
                                              [this](const auto& v, const auto& p) { return seatbelt(v, p); });

        check_backend_sections(*obj, policy);
        if (policy.network) check_proxy_rules(policy);
        return policy;
    }

private:
    void add(std::string pointer, std::string message) { out_.push_back({std::move(pointer), std::move(message)}); }

    void type_error(const boost::json::value& v, const std::string& pointer, std::string_view expected) {
        std::string message = "expected " + std::string(expected) + ", got " + std::string(json_kind_name(v));
        if (v.is_null()) message += " (null is never accepted: omit the field instead)";
        add(pointer, std::move(message));
    }

    const boost::json::object* as_object(const boost::json::value& v, const std::string& pointer) {
        if (v.is_object()) return &v.get_object();
        type_error(v, pointer, "an object");
        return nullptr;
    }

    void check_keys(const boost::json::object& obj, const std::string& pointer,
                    const std::vector<std::string_view>& allowed) {
        for (const auto& member : obj) {
            std::string_view key(member.key().data(), member.key().size());
            bool known = false;
            for (auto a : allowed) known = known || a == key;
            if (known) continue;
            std::string expected;
            for (auto a : allowed) expected += (expected.empty() ? "`" : ", `") + std::string(a) + "`";
            add(pointer_child(pointer, key), "unknown field `" + std::string(key) + "`; expected one of " + expected);
        }
    }

    // A string value; NUL is refused everywhere because executors and kernels cut C strings at it.
    std::optional<std::string> string_value(const boost::json::value& v, const std::string& pointer) {
        if (!v.is_string()) {
            type_error(v, pointer, "a string");
            return std::nullopt;
        }
        std::string s(v.get_string().data(), v.get_string().size());
        if (s.find('\0') != std::string::npos) {
            add(pointer, "must not contain a NUL character");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::string> string_field(const boost::json::object& obj, const std::string& pointer,
                                            std::string_view key) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        return string_value(*v, pointer_child(pointer, key));
    }

    std::optional<bool> bool_field(const boost::json::object& obj, const std::string& pointer, std::string_view key) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        if (v->is_bool()) return v->get_bool();
        type_error(*v, pointer_child(pointer, key), "a boolean");
        return std::nullopt;
    }

    // `problem(item)` says what is wrong with an item that is a valid string, or nullptr. Item
    // pointers are spelled only for a violation: a list of valid paths allocates nothing for them.
    template <class Problem = const char* (*)(std::string_view)>
    std::vector<std::string> string_list(const boost::json::object& obj, const std::string& pointer,
                                         std::string_view key, Problem problem = nullptr) {
        std::vector<std::string> out;
        auto* v = obj.if_contains(key);
        if (!v) return out;
        std::string here = pointer_child(pointer, key);
        if (!v->is_array()) {
            type_error(*v, here, "an array of strings");
            return out;
        }
        const auto& items = v->get_array();
        out.reserve(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            const boost::json::value& item = items[i];
            if (!item.is_string() || item.get_string().find('\0') != boost::json::string::npos) {
                string_value(item, pointer_child(here, i));  // reports the violation
                continue;
            }
            std::string_view s(item.get_string().data(), item.get_string().size());
            if constexpr (!std::is_pointer_v<Problem>) {
                if (const char* why = problem(s)) add(pointer_child(here, i), why);
            }
            out.emplace_back(s);
        }
        return out;
    }

    template <class E>
    std::optional<E> enum_field(const boost::json::object& obj, const std::string& pointer, std::string_view key,
                                std::initializer_list<std::string_view> accepted) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        std::string here = pointer_child(pointer, key);
        auto s = string_value(*v, here);
        if (!s) return std::nullopt;
        for (auto name : accepted)
            if (name == *s) return enum_from_string<E>(name);
        add(here, "unknown value \"" + *s + "\"; expected one of " + quoted_list(accepted, '"'));
        return std::nullopt;
    }

    std::optional<Containment> containment(const boost::json::object& obj) {
        if (contract_.seatbelt)
            return enum_field<Containment>(obj, "", "containment",
                                           {"process", "processcontainer", "appcontainer", "lxc", "bubblewrap",
                                            "seatbelt", "macos_sandbox"});
        return enum_field<Containment>(obj, "", "containment",
                                       {"process", "processcontainer", "appcontainer", "lxc", "bubblewrap"});
    }

    ProcessSpec process(const boost::json::value& v, const std::string& pointer) {
        ProcessSpec spec;
        auto* obj = as_object(v, pointer);
        if (!obj) return spec;
        check_keys(*obj, pointer, {"commandLine", "cwd", "env", "timeout"});
        if (!obj->contains("commandLine")) {
            add(pointer, "missing required field `commandLine`");
        } else if (auto s = string_field(*obj, pointer, "commandLine")) {
            if (s->empty()) add(pointer + "/commandLine", "must not be empty");
            spec.command_line = std::move(*s);
        }
        spec.cwd = string_field(*obj, pointer, "cwd");
        for (auto& entry : string_list(*obj, pointer, "env")) spec.env.push_back(EnvVar::parse(entry));
        if (auto* t = obj->if_contains("timeout")) spec.timeout = timeout(*t, pointer + "/timeout");
        return spec;
    }

    Timeout timeout(const boost::json::value& v, const std::string& pointer) {
        constexpr std::string_view expected =
            "an integer from 0 to 4294967295 (milliseconds; 0 means no timeout)";
        auto n = integer_of(v);
        if (n && *n >= 0 && *n <= 4294967295LL) return Timeout::ms(static_cast<std::uint32_t>(*n));
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

    std::optional<NetworkSpec> network(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer,
                   {"defaultPolicy", "enforcementMode", "allowedHosts", "blockedHosts", "allowLocalNetwork", "proxy"});
        NetworkSpec spec;
        spec.default_policy = enum_field<NetworkDefault>(*obj, pointer, "defaultPolicy", {"allow", "block"});
        spec.enforcement_mode =
            enum_field<EnforcementMode>(*obj, pointer, "enforcementMode", {"capabilities", "firewall", "both"});
        spec.allowed_hosts = string_list(*obj, pointer, "allowedHosts");
        spec.blocked_hosts = string_list(*obj, pointer, "blockedHosts");
        spec.allow_local_network = bool_field(*obj, pointer, "allowLocalNetwork");
        if (auto* p = obj->if_contains("proxy")) spec.proxy = proxy(*p, pointer + "/proxy");
        return spec;
    }

    std::optional<Proxy> proxy(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"localhost", "builtinTestServer", "url"});
        if (obj->size() != 1) {
            add(pointer, "expected exactly one of `localhost`, `builtinTestServer`, `url`, got " +
                             std::to_string(obj->size()) + " fields");
            return std::nullopt;
        }
        const auto& member = *obj->begin();
        std::string here = pointer_child(pointer, std::string_view(member.key().data(), member.key().size()));
        const boost::json::value& value = member.value();
        if (member.key() == "localhost") {
            auto port = integer_of(value);
            if (port && *port >= 1 && *port <= 65535) return Proxy{ProxyLocalhost{static_cast<std::uint16_t>(*port)}};
            if (value.is_int64() || value.is_uint64()) add(here, "expected a port from 1 to 65535");
            else type_error(value, here, "a port number from 1 to 65535");
        } else if (member.key() == "builtinTestServer") {
            if (value.is_bool() && value.get_bool()) return Proxy{ProxyBuiltinTestServer{}};
            if (value.is_bool()) add(here, "expected true (omit the proxy instead of disabling it)");
            else type_error(value, here, "true");
        } else if (member.key() == "url") {
            if (auto s = string_value(value, here)) {
                if (auto problem = proxy_url_problem(*s)) add(here, *problem);
                else return Proxy{ProxyUrl{std::move(*s)}};
            }
        }
        return std::nullopt;
    }

    std::optional<UiSpec> ui(const boost::json::value& v, const std::string& pointer) {
        auto* obj = as_object(v, pointer);
        if (!obj) return std::nullopt;
        check_keys(*obj, pointer, {"disable", "clipboard", "injection"});
        return UiSpec{bool_field(*obj, pointer, "disable"),
                      enum_field<ClipboardAccess>(*obj, pointer, "clipboard", {"none", "read", "write", "all"}),
                      bool_field(*obj, pointer, "injection")};
    }

    template <class Decode>
    auto aliased_section(const boost::json::object& obj, std::string_view key, std::string_view alias, Decode decode)
        -> decltype(decode(std::declval<const boost::json::value&>(), std::declval<const std::string&>())) {
        auto* primary = obj.if_contains(key);
        auto* legacy = obj.if_contains(alias);
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
        check_keys(*obj, pointer, {"leastPrivilege", "capabilities", "ui"});
        ProcessContainerSpec spec;
        spec.least_privilege = bool_field(*obj, pointer, "leastPrivilege");
        spec.capabilities = string_list(*obj, pointer, "capabilities");
        if (auto* u = obj->if_contains("ui")) {
            std::string here = pointer + "/ui";
            if (auto* uo = as_object(*u, here)) {
                check_keys(*uo, here, {"isolation", "desktopSystemControl", "systemSettings", "ime"});
                spec.ui = ProcessContainerUi{
                    enum_field<UiIsolation>(*uo, here, "isolation", {"container", "desktop", "handles", "atoms"}),
                    bool_field(*uo, here, "desktopSystemControl"), string_field(*uo, here, "systemSettings"),
                    bool_field(*uo, here, "ime")};
            }
        }
        return spec;
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
        check_keys(*obj, pointer,
                   {"profileOverride", "guiAccess", "launchMethod", "nestedPty", "keychainAccess", "extraMachLookups"});
        SeatbeltSpec spec;
        spec.profile_override = string_field(*obj, pointer, "profileOverride");
        spec.gui_access = bool_field(*obj, pointer, "guiAccess");
        spec.launch_method = enum_field<LaunchMethod>(*obj, pointer, "launchMethod", {"exec", "open"});
        spec.nested_pty = bool_field(*obj, pointer, "nestedPty");
        if (bool_field(*obj, pointer, "keychainAccess").value_or(false))
            add(pointer + "/keychainAccess", "keychain access is never grantable through cordon; only false is accepted");
        spec.extra_mach_lookups = string_list(*obj, pointer, "extraMachLookups");
        return spec;
    }

    // Each executor accepts only the section of the backend it runs. cordon asks for the explicit
    // containment even where a host would resolve `process` to that backend, so that a config's
    // meaning does not depend on the machine that reads it.
    void check_backend_sections(const boost::json::object& obj, const Policy& policy) {
        Containment c = policy.effective_containment();
        std::string containment_text = policy.containment
                                           ? "\"" + std::string(to_string(*policy.containment)) + "\""
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
        if (contract_.seatbelt) require({"seatbelt", "macos_sandbox"}, Containment::seatbelt);
    }

    // Cross-field proxy rules of the executors' parsers (docs/mxc-contract.md a.4). `process` is held
    // to the bubblewrap rules because that is what it resolves to on Linux.
    void check_proxy_rules(const Policy& policy) {
        const NetworkSpec& net = *policy.network;
        if (!net.proxy) return;
        const std::string where = "/network/proxy";
        const bool external = !std::holds_alternative<ProxyBuiltinTestServer>(*net.proxy);
        switch (policy.effective_containment()) {
            case Containment::process:
            case Containment::bubblewrap:
                if (net.enforcement_mode == EnforcementMode::firewall || net.enforcement_mode == EnforcementMode::both)
                    add(where, "bubblewrap: a proxy cannot be combined with enforcementMode \"firewall\" or \"both\"");
                if (external && (!net.allowed_hosts.empty() || !net.blocked_hosts.empty() ||
                                 net.effective_default() == NetworkDefault::block))
                    add(where,
                        "bubblewrap: an external proxy (localhost/url) cannot be combined with allowedHosts, "
                        "blockedHosts or defaultPolicy \"block\" (an absent defaultPolicy means block): set "
                        "\"defaultPolicy\": \"allow\" and let the proxy enforce hosts");
                break;
            case Containment::lxc:
                if (std::holds_alternative<ProxyLocalhost>(*net.proxy))
                    add(where + "/localhost",
                        "lxc: a localhost proxy is not reachable from the container's network namespace; use `url`");
                break;
            case Containment::processcontainer:
            case Containment::seatbelt:
                break;
        }
    }

    const Contract& contract_;
    Violations& out_;
};

}  // namespace cordon::detail
