// SPDX-License-Identifier: MIT
// cordon: the directional codec (contracts 0.9.0-alpha and 1.0.0, and the directional half of
// 0.8.0-alpha): network.egress / ingress and runtimeConfig.networkProxy, read with the executor's
// checks and wording, and written back (part of the implementation of mxc_json.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/proxy_url.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/impl/mxc_reader.hpp"
#include "cordon/policy.hpp"

namespace cordon::detail {

/// "1.0" for 1.0.0, "0.9" for 0.9.0-alpha: how the executor names a contract in migration hints.
inline std::string schema_label(std::string_view version) {
    auto second = version.find('.', version.find('.') + 1);
    return std::string(version.substr(0, second));
}

// The executor's migration hint for a legacy network key in a directional contract.
inline std::string legacy_key_hint(std::string_view key, const Contract& contract) {
    std::string_view hint;
    if (key == "defaultPolicy") hint = "use network.egress.default ('allow' or 'deny')";
    else if (key == "enforcementMode") hint = "use directional network policy; enforcement is selected by the backend";
    else if (key == "allowedHosts" || key == "blockedHosts")
        hint = "use network.egress.allow/deny CIDR rules; hostnames cannot be losslessly converted";
    else if (key == "allowLocalNetwork") hint = "use network.ingress.default and network.ingress.hostLoopback";
    else if (key == "proxy") hint = "use runtimeConfig.networkProxy with a proxy URL";
    if (hint.empty()) return "";
    return "; schema " + schema_label(contract.version) + " migration: " + std::string(hint);
}

struct DirectionalCodec {
    static void decode_network(MxcReader& r, const boost::json::object& root, Policy& policy) {
        auto* net = root.if_contains("network");
        auto* runtime = root.if_contains("runtimeConfig");
        if (!net && !runtime) return check(r, policy);
        NetworkSpec spec;
        if (net)
            if (auto* obj = r.as_object(*net, "/network")) {
                r.check_keys(*obj, "/network", {"egress", "ingress"}, legacy_key_hint);
                decode_sections(r, *obj, spec);
            }
        if (runtime) spec.proxy = decode_runtime_config(r, *runtime);
        policy.network = std::move(spec);
        check(r, policy);
    }

    // `egress` and `ingress` of a network object (shared with the 0.8.0-alpha legacy codec).
    static void decode_sections(MxcReader& r, const boost::json::object& net, NetworkSpec& spec) {
        if (auto* e = r.object_field(net, "/network", "egress")) spec.egress = decode_egress(r, *e, "/network/egress");
        if (auto* i = r.object_field(net, "/network", "ingress")) spec.ingress = decode_ingress(r, *i);
    }

    static Egress decode_egress(MxcReader& r, const boost::json::object& obj, const std::string& at) {
        r.check_keys(obj, at, {"default", "allow", "deny"});
        Egress egress;
        if (auto* d = obj.if_contains("default")) egress.default_action = action(r, *d, at + "/default");
        egress.allow = rules(r, obj, at, "allow");
        egress.deny = rules(r, obj, at, "deny");
        return egress;
    }

    static Ingress decode_ingress(MxcReader& r, const boost::json::object& obj) {
        const std::string at = "/network/ingress";
        r.check_keys(obj, at, {"default", "hostLoopback"});
        Ingress ingress;
        if (auto* d = obj.if_contains("default")) ingress.default_action = action(r, *d, at + "/default");
        if (auto* h = obj.if_contains("hostLoopback")) ingress.host_loopback = action(r, *h, at + "/hostLoopback");
        return ingress;
    }

    static std::optional<Proxy> decode_runtime_config(MxcReader& r, const boost::json::value& v) {
        const std::string at = "/runtimeConfig";
        auto* obj = r.as_object(v, at);
        if (!obj) return std::nullopt;
        r.check_keys(*obj, at, {"networkProxy"});
        auto url = r.string_field(*obj, at, "networkProxy");
        if (!url) return std::nullopt;
        if (auto problem = network_proxy_problem(*url)) {
            r.add(at + "/networkProxy", *problem);
            return std::nullopt;
        }
        return Proxy{ProxyUrl{std::move(*url)}};
    }

    // Cross-field rules of the directional parser (mxc-1.0.md 4.5, 4.6).
    static void check(MxcReader& r, const Policy& policy) {
        const NetworkSpec* net = policy.network ? &*policy.network : nullptr;
        if (net && net->proxy && std::holds_alternative<ProxyUrl>(*net->proxy) &&
            (net->egress.effective_default() == EgressDefault::allow || !net->egress.allow.empty() ||
             !net->egress.deny.empty()))
            r.add("/runtimeConfig/networkProxy",
                  "runtimeConfig.networkProxy requires network.egress.default='deny' with no direct allow or deny rules");
        if (policy.process_container && policy.process_container->allowed_proxy_peer && !(net && net->proxy))
            r.add("/processContainer/network/allowedProxyPeer",
                  "processContainer.network.allowedProxyPeer requires runtimeConfig.networkProxy");
        if (policy.effective_containment() == Containment::isolation_session) {
            bool all_allow = net && net->egress.effective_default() == EgressDefault::allow &&
                             net->ingress.effective_default() == NetworkAction::allow &&
                             net->ingress.effective_host_loopback() == NetworkAction::allow &&
                             net->egress.allow.empty() && net->egress.deny.empty() && !net->proxy;
            if (!all_allow)
                r.add("/network",
                      "IsolationSession requires an explicit network policy with network.egress.default=allow, "
                      "network.ingress.default=allow, and network.ingress.hostLoopback=allow, without rules or "
                      "runtimeConfig.networkProxy");
        }
    }

    /// Writes `network` (always, when the policy has one) and `runtimeConfig`.
    static void encode_network(const Policy& p, boost::json::object& root) {
        if (!p.network) return;
        const NetworkSpec& n = *p.network;
        boost::json::object net;
        if (n.egress != Egress{}) net["egress"] = boost::json::parse(to_json(n.egress));
        boost::json::object ingress;
        if (n.ingress.default_action) ingress["default"] = to_string(*n.ingress.default_action);
        if (n.ingress.host_loopback) ingress["hostLoopback"] = to_string(*n.ingress.host_loopback);
        if (!ingress.empty()) net["ingress"] = std::move(ingress);
        root["network"] = std::move(net);
        if (n.proxy)
            if (auto* url = std::get_if<ProxyUrl>(&*n.proxy))
                root["runtimeConfig"] = boost::json::object{{"networkProxy", url->url}};
    }

    /// Directional contracts spell the model's pointers as the model does.
    static std::string wire_pointer(std::string_view model) { return std::string(model); }
    static std::string model_pointer(std::string_view wire) { return std::string(wire); }

private:
    static std::optional<NetworkAction> action(MxcReader& r, const boost::json::value& v, const std::string& at) {
        if (!v.is_string()) {
            r.type_error(v, at, "a valid NetworkAction string (\"allow\" or \"deny\")");
            return std::nullopt;
        }
        auto parsed = parse_egress_default(std::string_view(v.get_string().data(), v.get_string().size()), at);
        if (parsed) return *parsed;
        r.add(parsed.error().where, parsed.error().message);
        return std::nullopt;
    }

    static std::vector<EgressRule> rules(MxcReader& r, const boost::json::object& obj, const std::string& at,
                                         std::string_view key) {
        std::vector<EgressRule> out;
        auto* v = obj.if_contains(key);
        if (!v) return out;
        std::string here = pointer_child(at, key);
        if (!v->is_array()) {
            r.type_error(*v, here, "an array of rules");
            return out;
        }
        for (std::size_t i = 0; i < v->get_array().size(); ++i)
            if (auto rule = decode_rule(r, v->get_array()[i], pointer_child(here, i))) out.push_back(std::move(*rule));
        return out;
    }

    // A list that must not be empty when present; nullptr when absent or unusable.
    static const boost::json::array* nonempty_list(MxcReader& r, const boost::json::object& obj,
                                                   const std::string& at, std::string_view key) {
        auto* v = obj.if_contains(key);
        if (!v) return nullptr;
        std::string here = pointer_child(at, key);
        if (!v->is_array()) r.type_error(*v, here, "an array");
        else if (v->get_array().empty()) r.add(here, "array must not be empty");
        else return &v->get_array();
        return nullptr;
    }

    static std::optional<EgressRule> decode_rule(MxcReader& r, const boost::json::value& v, const std::string& at) {
        auto* obj = r.as_object(v, at);
        if (!obj) return std::nullopt;
        r.check_keys(*obj, at, {"to", "ports"});
        std::size_t before = r.violations();
        EgressRule rule;
        if (auto* to = nonempty_list(r, *obj, at, "to")) {
            rule.to.emplace();
            for (std::size_t i = 0; i < to->size(); ++i)
                if (auto peer = decode_peer(r, (*to)[i], pointer_child(at + "/to", i))) rule.to->push_back(*peer);
        }
        if (auto* ports = nonempty_list(r, *obj, at, "ports")) {
            rule.ports.emplace();
            for (std::size_t i = 0; i < ports->size(); ++i)
                if (auto port = decode_port(r, (*ports)[i], pointer_child(at + "/ports", i))) rule.ports->push_back(*port);
        }
        if (r.violations() != before) return std::nullopt;
        return rule;
    }

    static std::optional<Peer> decode_peer(MxcReader& r, const boost::json::value& v, const std::string& at) {
        auto* obj = r.as_object(v, at);
        if (!obj) return std::nullopt;
        r.check_keys(*obj, at, {"cidr", "except"});
        std::size_t before = r.violations();
        auto cidr = r.string_field(*obj, at, "cidr");
        std::vector<std::string> except = r.string_list(*obj, at, "except");
        if (r.violations() != before) return std::nullopt;
        if (!obj->contains("cidr")) {
            r.add(at, "missing required field `cidr`");
            return std::nullopt;
        }
        auto peer = make_peer(std::string_view(*cidr), except, at);
        if (peer) return *peer;
        r.add(peer.error().where, peer.error().message);
        return std::nullopt;
    }

    static std::optional<PortSpec> decode_port(MxcReader& r, const boost::json::value& v, const std::string& at) {
        auto* obj = r.as_object(v, at);
        if (!obj) return std::nullopt;
        r.check_keys(*obj, at, {"port", "endPort", "protocol"});
        std::size_t before = r.violations();
        auto number = [&](const char* key) -> std::optional<std::int64_t> {
            auto* n = obj->if_contains(key);
            if (!n) return std::nullopt;
            if (auto i = integer_of(*n)) return i;
            if (n->is_uint64()) return INT64_MAX;  // too large: make_port_spec names it
            r.type_error(*n, pointer_child(at, key), "a nonzero u16 (1 to 65535)");
            return std::nullopt;
        };
        auto port = number("port");
        auto end_port = number("endPort");
        auto protocol = r.string_field(*obj, at, "protocol");
        if (r.violations() != before) return std::nullopt;
        auto spec = make_port_spec(port, end_port,
                                   protocol ? std::optional<std::string_view>(*protocol) : std::nullopt, at);
        if (spec) return *spec;
        r.add(spec.error().where, spec.error().message);
        return std::nullopt;
    }
};

}  // namespace cordon::detail
