// SPDX-License-Identifier: MIT
// cordon: the legacy codec (contracts 0.6.0-alpha, 0.7.0-alpha, 0.8.0-alpha): `defaultPolicy`
// (legacy block = directional deny), host lists, `network.proxy`, and 0.8.0-alpha's directional
// fields, never mixed with those (part of the implementation of mxc_json.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/proxy_url.hpp"
#include "cordon/impl/mxc_codec_directional.hpp"
#include "cordon/impl/mxc_reader.hpp"
#include "cordon/names.hpp"
#include "cordon/policy.hpp"

namespace cordon::detail {

struct LegacyCodec {
    static void decode_network(MxcReader& r, const boost::json::object& root, Policy& policy) {
        const Contract& c = r.contract();
        auto* net = root.if_contains("network");
        auto* runtime = c.directional_network ? root.if_contains("runtimeConfig") : nullptr;
        bool legacy_fields = false, legacy_proxy = false;
        if (net || runtime) {
            NetworkSpec spec;
            if (net)
                if (auto* obj = r.as_object(*net, "/network")) {
                    Keys keys{"defaultPolicy", "enforcementMode", "allowedHosts", "blockedHosts", "allowLocalNetwork", "proxy"};
                    if (c.directional_network) keys.insert(keys.end(), {"egress", "ingress"});
                    r.check_keys(*obj, "/network", keys);
                    legacy_fields = decode_legacy_fields(r, *obj, spec);
                    legacy_proxy = obj->contains("proxy");
                    if (c.directional_network) DirectionalCodec::decode_sections(r, *obj, spec);
                }
            if (runtime) spec.proxy = DirectionalCodec::decode_runtime_config(r, *runtime);
            policy.network = std::move(spec);
        }
        if (!c.directional_network) return check_proxy_rules(r, policy);
        const bool directional = (net && net->is_object() &&
                                  (net->get_object().contains("egress") || net->get_object().contains("ingress"))) ||
                                 runtime ||
                                 (policy.process_container && policy.process_container->allowed_proxy_peer);
        if (legacy_fields && directional)
            r.add("/network",
                  "network configuration cannot mix defaultPolicy, enforcementMode, allowLocalNetwork, allowedHosts, "
                  "blockedHosts or proxy with egress, ingress, runtimeConfig, or processContainer.network");
        if (legacy_proxy) check_proxy_rules(r, policy);
        else if (directional) DirectionalCodec::check(r, policy);
    }

    /// Writes `network` in the legacy shape, or (0.8.0-alpha, for a policy that needs it) in the
    /// directional one.
    static void encode_network(const Policy& p, const Contract& c, boost::json::object& root) {
        if (!p.network) return;
        const NetworkSpec& n = *p.network;
        if (c.directional_network && directional_shape(n)) return DirectionalCodec::encode_network(p, root);
        boost::json::object o;
        if (n.egress.default_action) o["defaultPolicy"] = to_string(to_network_default(*n.egress.default_action));
        if (n.legacy.enforcement_mode) o["enforcementMode"] = to_string(*n.legacy.enforcement_mode);
        auto list = [&o](const char* key, const std::vector<std::string>& items) {
            if (items.empty()) return;
            boost::json::array a;
            for (const auto& s : items) a.emplace_back(s);
            o[key] = std::move(a);
        };
        list("allowedHosts", n.legacy.allowed_hosts);
        list("blockedHosts", n.legacy.blocked_hosts);
        if (n.legacy.allow_local_network) o["allowLocalNetwork"] = *n.legacy.allow_local_network;
        if (n.proxy) {
            boost::json::object proxy;
            if (auto* l = std::get_if<ProxyLocalhost>(&*n.proxy)) proxy["localhost"] = static_cast<std::int64_t>(l->port);
            else if (auto* u = std::get_if<ProxyUrl>(&*n.proxy)) proxy["url"] = u->url;
            else proxy["builtinTestServer"] = true;
            o["proxy"] = std::move(proxy);
        }
        root["network"] = std::move(o);
    }

    // 0.8.0-alpha has both shapes: the directional one for what only it can say (rules, ingress,
    // and a URL proxy under a deny default, which legacy bubblewrap rejects).
    static bool directional_shape(const NetworkSpec& n) {
        if (!n.legacy.empty()) return false;
        bool url_proxy = n.proxy && std::holds_alternative<ProxyUrl>(*n.proxy);
        if (n.proxy && !url_proxy) return false;
        return n.has_directional_detail() || (url_proxy && n.effective_default() == EgressDefault::deny);
    }

    /// The legacy spelling of a model pointer: the egress default is `defaultPolicy`, the proxy
    /// `network.proxy`.
    static std::string wire_pointer(std::string_view model) {
        return replace_prefix(replace_prefix(std::string(model), "/network/egress/default", "/network/defaultPolicy"),
                              "/runtimeConfig/networkProxy", "/network/proxy");
    }
    static std::string model_pointer(std::string_view wire) {
        return replace_prefix(replace_prefix(std::string(wire), "/network/defaultPolicy", "/network/egress/default"),
                              "/network/proxy", "/runtimeConfig/networkProxy");
    }

    // The legacy fields of a `network` object (the ceiling decoder reads its own with it too).
    // Returns whether any legacy field was given.
    static bool decode_legacy_fields(MxcReader& r, const boost::json::object& obj, NetworkSpec& spec) {
        const std::string at = "/network";
        if (auto d = r.enum_field<NetworkDefault>(obj, at, "defaultPolicy"))
            spec.egress.default_action = to_egress_default(*d);  // legacy block is directional deny
        spec.legacy.enforcement_mode =
            r.enum_field<EnforcementMode>(obj, at, "enforcementMode");
        spec.legacy.allowed_hosts = r.string_list(obj, at, "allowedHosts");
        spec.legacy.blocked_hosts = r.string_list(obj, at, "blockedHosts");
        spec.legacy.allow_local_network = r.bool_field(obj, at, "allowLocalNetwork");
        if (auto* p = obj.if_contains("proxy")) spec.proxy = proxy(r, *p, at + "/proxy");
        for (const char* key : {"defaultPolicy", "enforcementMode", "allowedHosts", "blockedHosts", "allowLocalNetwork", "proxy"})
            if (obj.contains(key)) return true;
        return false;
    }

    static std::optional<Proxy> proxy(MxcReader& r, const boost::json::value& v, const std::string& pointer) {
        auto* obj = r.as_object(v, pointer);
        if (!obj) return std::nullopt;
        r.check_keys(*obj, pointer, {"localhost", "builtinTestServer", "url"});
        if (obj->size() != 1) {
            r.add(pointer, "expected exactly one of `localhost`, `builtinTestServer`, `url`, got " +
                               std::to_string(obj->size()) + " fields");
            return std::nullopt;
        }
        const auto& member = *obj->begin();
        std::string here = pointer_child(pointer, std::string_view(member.key().data(), member.key().size()));
        const boost::json::value& value = member.value();
        if (member.key() == "localhost") {
            auto port = integer_of(value);
            if (port && *port >= 1 && *port <= 65535) return Proxy{ProxyLocalhost{static_cast<std::uint16_t>(*port)}};
            if (value.is_int64() || value.is_uint64()) r.add(here, "expected a port from 1 to 65535");
            else r.type_error(value, here, "a port number from 1 to 65535");
        } else if (member.key() == "builtinTestServer") {
            if (value.is_bool() && value.get_bool()) return Proxy{ProxyBuiltinTestServer{}};
            if (value.is_bool()) r.add(here, "expected true (omit the proxy instead of disabling it)");
            else r.type_error(value, here, "true");
        } else if (member.key() == "url") {
            if (auto s = r.string_value(value, here)) {
                if (auto problem = proxy_url_problem(*s)) r.add(here, *problem);
                else if (proxy_url_has_userinfo(*s))  // lxc-exec 0.9.0's parse error, for the same reason
                    r.add(here, "must not carry credentials: the executor passes the proxy URL to the sandbox on a "
                                "command line, which every local user can read (/proc/<pid>/cmdline)");
                else return Proxy{ProxyUrl{std::move(*s)}};
            }
        }
        return std::nullopt;
    }

    // Cross-field proxy rules of the executors' parsers (docs/mxc-contract.md a.4). `process` is held
    // to the bubblewrap rules because that is what it resolves to on Linux.
    static void check_proxy_rules(MxcReader& r, const Policy& policy) {
        if (policy.network) check_proxy_rules(r, *policy.network, policy.effective_containment());
    }
    static void check_proxy_rules(MxcReader& r, const NetworkSpec& net, Containment containment) {
        if (!net.proxy) return;
        const std::string where = "/network/proxy";
        const bool external = !std::holds_alternative<ProxyBuiltinTestServer>(*net.proxy);
        switch (containment) {
            case Containment::process:
            case Containment::bubblewrap:
                if (net.legacy.enforcement_mode == EnforcementMode::firewall ||
                    net.legacy.enforcement_mode == EnforcementMode::both)
                    r.add(where, "bubblewrap: a proxy cannot be combined with enforcementMode \"firewall\" or \"both\"");
                if (external && (!net.legacy.allowed_hosts.empty() || !net.legacy.blocked_hosts.empty() ||
                                 net.effective_default() == EgressDefault::deny))
                    r.add(where,
                          "bubblewrap: an external proxy (localhost/url) cannot be combined with allowedHosts, "
                          "blockedHosts or defaultPolicy \"block\" (an absent defaultPolicy means block): set "
                          "\"defaultPolicy\": \"allow\" and let the proxy enforce hosts");
                break;
            case Containment::lxc:
                if (std::holds_alternative<ProxyLocalhost>(*net.proxy))
                    r.add(where + "/localhost",
                          "lxc: a localhost proxy is not reachable from the container's network namespace; use `url`");
                break;
            default: break;
        }
    }

private:
    static std::string replace_prefix(std::string s, std::string_view from, std::string_view to) {
        if (s.compare(0, from.size(), from) == 0 && (s.size() == from.size() || s[from.size()] == '/'))
            s.replace(0, from.size(), to);
        return s;
    }
};

}  // namespace cordon::detail
