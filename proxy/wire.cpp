// SPDX-License-Identifier: MIT
// cordon proxy: JSON forms of decisions (one line each) and of the configuration handed to a proxy process; the workload's proxy environment.
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/filtering_proxy.hpp"

namespace cordon {

namespace json = boost::json;

namespace {

Error bad(const std::string& what, const std::string& where) { return make_error(ErrorCode::invalid_policy, what, where); }

// A closed object: every key must be one of `known`.
std::optional<Error> closed(const json::object& o, std::initializer_list<std::string_view> known, const std::string& where) {
    for (const auto& kv : o) {
        bool ok = false;
        for (auto k : known) ok = ok || kv.key() == k;
        if (!ok) return bad("unknown field \"" + std::string(kv.key()) + "\"", where);
    }
    return std::nullopt;
}

template <class T>
std::optional<Error> get_uint(const json::object& o, std::string_view key, T& out, const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    std::string at = where + "/" + std::string(key);
    if (v->is_int64() && v->get_int64() >= 0) {
        auto x = static_cast<std::uint64_t>(v->get_int64());
        if (x > std::numeric_limits<T>::max()) return bad("is too large", at);
        out = static_cast<T>(x);
    } else if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<T>::max()) {
        out = static_cast<T>(v->get_uint64());
    } else {
        return bad("expected a non-negative integer", at);
    }
    return std::nullopt;
}

std::optional<Error> get_string(const json::object& o, std::string_view key, std::string& out, const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return bad("expected a string", where + "/" + std::string(key));
    out = std::string(v->get_string());
    return std::nullopt;
}

std::optional<Error> get_strings(const json::object& o, std::string_view key, std::vector<std::string>& out,
                                 const std::string& where) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    std::string at = where + "/" + std::string(key);
    if (!v->is_array()) return bad("expected an array of strings", at);
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
        const auto& e = v->get_array()[i];
        if (!e.is_string()) return bad("expected a string", at + "/" + std::to_string(i));
        out.emplace_back(e.get_string());
    }
    return std::nullopt;
}

Result<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
    if (ec) return bad("not JSON: " + ec.message(), "");
    if (!v.is_object()) return bad("expected a JSON object", "");
    return std::move(v.get_object());
}

}  // namespace

std::string ProxyDecision::to_json() const {
    json::object o;
    o["connection"] = connection;
    o["method"] = method;
    o["host"] = host;
    o["port"] = port;
    o["allowed"] = allowed;
    if (!pattern.empty()) o["pattern"] = pattern;
    if (!address.empty()) o["address"] = address;
    o["status"] = status;
    if (!reason.empty()) o["reason"] = reason;
    o["bytesUp"] = bytes_up;
    o["bytesDown"] = bytes_down;
    o["durationMs"] = duration_ms;
    return json::serialize(o);
}

Result<ProxyDecision> ProxyDecision::from_json(std::string_view line) {
    try {
        auto o = parse_object(line);
        if (!o) return o.error();
        if (auto e = closed(*o, {"connection", "method", "host", "port", "allowed", "pattern", "address", "status", "reason",
                                 "bytesUp", "bytesDown", "durationMs"},
                            ""))
            return *e;
        ProxyDecision d;
        std::optional<Error> e;
        if ((e = get_uint(*o, "connection", d.connection, "")) || (e = get_string(*o, "method", d.method, "")) ||
            (e = get_string(*o, "host", d.host, "")) || (e = get_uint(*o, "port", d.port, "")) ||
            (e = get_string(*o, "pattern", d.pattern, "")) || (e = get_string(*o, "address", d.address, "")) ||
            (e = get_uint(*o, "status", d.status, "")) || (e = get_string(*o, "reason", d.reason, "")) ||
            (e = get_uint(*o, "bytesUp", d.bytes_up, "")) || (e = get_uint(*o, "bytesDown", d.bytes_down, "")) ||
            (e = get_uint(*o, "durationMs", d.duration_ms, "")))
            return *e;
        const json::value* allowed = o->if_contains("allowed");
        if (!allowed || !allowed->is_bool()) return bad("expected a boolean", "/allowed");
        d.allowed = allowed->get_bool();
        return d;
    } catch (const std::exception& ex) {
        return bad(std::string("decision: ") + ex.what(), "");
    }
}

std::string proxy_config_to_json(const ProxyConfig& c) {
    json::object o;
    json::array allowed;
    for (const auto& p : c.allowed) allowed.emplace_back(p.to_string());
    o["allowedDomains"] = std::move(allowed);
    json::array internal;
    for (const auto& n : c.allowed_internal) internal.emplace_back(n);
    o["allowedInternal"] = std::move(internal);
    o["resolver"] = c.resolver == ProxyResolver::hosts_file ? "hosts-file" : "system";
    if (!c.hosts_file.empty()) o["hostsFile"] = c.hosts_file;
    o["listen"] = c.listen_address;
    o["port"] = c.listen_port;
    const ProxyLimits& l = c.limits;
    o["limits"] = json::object{{"maxConnections", l.max_connections},
                               {"maxBytesPerConnection", l.max_bytes_per_connection},
                               {"maxBytesTotal", l.max_bytes_total},
                               {"idleTimeoutMs", l.idle_timeout_ms},
                               {"headerTimeoutMs", l.header_timeout_ms},
                               {"connectTimeoutMs", l.connect_timeout_ms},
                               {"maxHeaderBytes", l.max_header_bytes},
                               {"maxDecisions", l.max_decisions}};
    return json::serialize(o);
}

namespace {

std::optional<Error> read_limits(const json::object& o, ProxyLimits& l) {
    const json::value* v = o.if_contains("limits");
    if (!v) return std::nullopt;
    if (!v->is_object()) return bad("expected an object", "/limits");
    const json::object& lo = v->get_object();
    if (auto e = closed(lo, {"maxConnections", "maxBytesPerConnection", "maxBytesTotal", "idleTimeoutMs", "headerTimeoutMs",
                             "connectTimeoutMs", "maxHeaderBytes", "maxDecisions"},
                        "/limits"))
        return e;
    std::optional<Error> e;
    const std::string at = "/limits";
    if ((e = get_uint(lo, "maxConnections", l.max_connections, at)) ||
        (e = get_uint(lo, "maxBytesPerConnection", l.max_bytes_per_connection, at)) ||
        (e = get_uint(lo, "maxBytesTotal", l.max_bytes_total, at)) || (e = get_uint(lo, "idleTimeoutMs", l.idle_timeout_ms, at)) ||
        (e = get_uint(lo, "headerTimeoutMs", l.header_timeout_ms, at)) ||
        (e = get_uint(lo, "connectTimeoutMs", l.connect_timeout_ms, at)) ||
        (e = get_uint(lo, "maxHeaderBytes", l.max_header_bytes, at)) || (e = get_uint(lo, "maxDecisions", l.max_decisions, at)))
        return e;
    return std::nullopt;
}

}  // namespace

Result<ProxyConfig> proxy_config_from_json(std::string_view text) {
    try {
        auto o = parse_object(text);
        if (!o) return o.error();
        if (auto e = closed(*o, {"allowedDomains", "allowedInternal", "resolver", "hostsFile", "listen", "port", "limits"}, ""))
            return *e;
        ProxyConfig c;
        std::vector<std::string> domains;
        std::string resolver = "system";
        std::optional<Error> e;
        if ((e = get_strings(*o, "allowedDomains", domains, "")) || (e = get_strings(*o, "allowedInternal", c.allowed_internal, "")) ||
            (e = get_string(*o, "resolver", resolver, "")) || (e = get_string(*o, "hostsFile", c.hosts_file, "")) ||
            (e = get_string(*o, "listen", c.listen_address, "")) || (e = get_uint(*o, "port", c.listen_port, "")) ||
            (e = read_limits(*o, c.limits)))
            return *e;
        auto patterns = parse_domain_patterns(domains, "/allowedDomains");
        if (!patterns) return patterns.error();
        c.allowed = std::move(*patterns);
        if (resolver == "hosts-file") c.resolver = ProxyResolver::hosts_file;
        else if (resolver != "system") return bad("expected \"system\" or \"hosts-file\"", "/resolver");
        if (c.resolver == ProxyResolver::hosts_file && c.hosts_file.empty()) return bad("the hosts-file resolver needs hostsFile", "/hostsFile");
        return c;
    } catch (const std::exception& ex) {
        return bad(std::string("proxy config: ") + ex.what(), "");
    }
}

std::vector<std::string> proxy_environment(std::string_view proxy_url) {
    std::string url(proxy_url);
    // The sandbox's own loopback stays direct; everything else goes to the proxy (and a workload
    // that ignores these variables reaches nothing: the firewall admits only the proxy's port).
    const std::string direct = "localhost,127.0.0.1,::1";
    std::vector<std::string> env;
    for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}) {
        env.push_back(std::string(name) + "=" + url);
        std::string lower(name);
        for (char& ch : lower)
            if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        env.push_back(lower + "=" + url);
    }
    env.push_back("NO_PROXY=" + direct);
    env.push_back("no_proxy=" + direct);
    return env;
}

}  // namespace cordon
