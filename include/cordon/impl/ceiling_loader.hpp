// SPDX-License-Identifier: MIT
// cordon: implementation of the ceiling file loader (ceiling_loader.hpp): strict JSON, closed schema,
// the MXC decoder's cross-field rules.
#pragma once

#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#if !defined(_WIN32)
#include <pwd.h>
#include <unistd.h>
#endif

#include "cordon/ceiling_loader.hpp"
#include "cordon/egress_flag.hpp"
#include "cordon/egress_set.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/detail/address_class.hpp"
#include "cordon/detail/input_file.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/limit_fields.hpp"
#include "cordon/detail/schema_check.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/impl/ceiling_decode.hpp"
#include "cordon/violation.hpp"

namespace cordon {
namespace detail {

#if !defined(_WIN32)
// The numbers of a user, from the user database (getpwnam_r/getpwuid_r: no static buffer).
inline std::optional<RunAs> user_ids(const std::string& name, std::optional<std::uint32_t> uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    int rc = uid ? ::getpwuid_r(*uid, &pw, buffer.data(), buffer.size(), &found)
                 : ::getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found);
    if (rc != 0 || !found) return std::nullopt;
    return RunAs{static_cast<std::uint32_t>(pw.pw_uid), static_cast<std::uint32_t>(pw.pw_gid)};
}
#endif

inline std::optional<std::uint32_t> small_number(std::string_view s) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    unsigned long long n = std::stoull(std::string(s));
    if (n > 0xFFFFFFFEULL) return std::nullopt;  // (uid_t)-1 means "unchanged" to setuid
    return static_cast<std::uint32_t>(n);
}

CORDON_FUNC Result<std::optional<RunAs>> run_as_for(const std::optional<std::string>& named, const std::string& where) {
#if defined(_WIN32)
    if (named) return make_error(ErrorCode::backend_unsupported, "runAs is POSIX only", where);
    return std::optional<RunAs>{};
#else
    if (!named) return std::optional<RunAs>{};
    const std::string& text = *named;
    std::optional<RunAs> ids;
    auto colon = text.find(':');
    auto uid = small_number(std::string_view(text).substr(0, colon));
    if (colon != std::string::npos) {
        auto gid = small_number(std::string_view(text).substr(colon + 1));
        if (uid && gid) ids = RunAs{*uid, *gid};
    } else if (uid) {
        ids = user_ids({}, uid).value_or(RunAs{*uid, *uid});  // a uid without an entry: its own number as gid
    } else {
        ids = user_ids(text, std::nullopt);
        if (!ids) return make_error(ErrorCode::invalid_policy, "no user named \"" + text + "\" on this host", where);
    }
    if (!ids)
        return make_error(ErrorCode::invalid_policy, "expected a user name, UID or UID:GID, got \"" + text + "\"", where);
    if (ids->uid == 0 || ids->gid == 0)
        return make_error(ErrorCode::invalid_policy,
                          "\"" + text + "\" is root (uid or gid 0): the sandbox never runs as host root", where);
    return std::optional<RunAs>{ids};
#endif
}

CORDON_FUNC std::optional<RunAs> default_run_as() {
#if defined(_WIN32)
    return std::nullopt;
#else
    if (::geteuid() != 0) return std::nullopt;
    // The traditional unprivileged user (65534 where it has no entry): never host root inside.
    return user_ids("nobody", std::nullopt).value_or(RunAs{65534, 65534});
#endif
}

CORDON_FUNC Result<std::uint64_t> parse_limit_value(std::string_view text, const std::string& where) {
    bool digits = !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string_view::npos;
    unsigned long long n = digits ? std::stoull(std::string(text)) : 0;
    if (!digits || n > 0x7FFFFFFFFFFFFFFFULL)
        return make_error(ErrorCode::invalid_policy,
                          "expected a whole number from 0 (no limit) to 9223372036854775807, got \"" + std::string(text) + "\"",
                          where);
    return static_cast<std::uint64_t>(n);
}

// CORDON_LIMITS: `name=value` pairs separated by ','.
inline Status env_limits(std::string_view value, const std::string& where, Limits& out) {
    while (!value.empty()) {
        auto cut = value.find(',');
        std::string_view item = value.substr(0, cut);
        value.remove_prefix(cut == std::string_view::npos ? value.size() : cut + 1);
        auto eq = item.find('=');
        const LimitField* field = nullptr;
        for (const LimitField& f : limit_fields)
            if (eq != std::string_view::npos && item.substr(0, eq) == f.name) field = &f;
        if (!field)
            return make_error(ErrorCode::invalid_policy,
                              "expected NAME=VALUE with NAME one of processes, addressSpaceBytes, memoryBytes, "
                              "cpuSeconds, fileSizeBytes, openFiles; got \"" + std::string(item) + "\"",
                              where);
        auto n = parse_limit_value(item.substr(eq + 1), where);
        if (!n) return n.error();
        out.*field->member = *n;
    }
    return {};
}

// CORDON_EGRESS_ALLOW / _DENY: `cordon run --egress` grants separated by ','.
inline Status env_egress(std::string_view value, const std::string& where, std::vector<EgressRule>& out) {
    for (std::size_t i = 0; !value.empty() || i == 0; ++i) {
        auto cut = value.find(',');
        auto rule = parse_egress_flag(value.substr(0, cut), where + "[" + std::to_string(i) + "]");
        if (!rule) return rule.error();
        out.push_back(std::move(*rule));
        value.remove_prefix(cut == std::string_view::npos ? value.size() : cut + 1);
        if (cut != std::string_view::npos && value.empty())
            return make_error(ErrorCode::invalid_policy, "an empty entry after the last ','", where);
    }
    return {};
}

// network.allowedInternal / <P>PROXY_ALLOWED_INTERNAL: internal blocks (loopback, private,
// metadata, ...) the filtering proxy may reach after all; read with the proxy's own parser.
template <class WhereOf>
Status internal_blocks(const std::vector<std::string>& texts, WhereOf where_of, std::vector<std::string>& out) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto block = IpBlock::parse(texts[i]);
        if (!block) return make_error(ErrorCode::invalid_policy, block.error().message, where_of(i));
        out.push_back(texts[i]);
    }
    return {};
}

inline std::vector<std::string> split_commas(std::string_view value) {
    std::vector<std::string> out;
    while (true) {
        auto cut = value.find(',');
        out.emplace_back(value.substr(0, cut));
        if (cut == std::string_view::npos) return out;
        value.remove_prefix(cut + 1);
    }
}

// CORDON_ALLOWED_DOMAINS: domain patterns separated by ','; a bad one names its index.
inline Status env_domains(std::string_view value, const std::string& where, std::vector<DomainPattern>& out) {
    auto patterns = parse_domain_patterns(split_commas(value), where);
    if (!patterns) {
        Error e = patterns.error();
        auto slash = e.where.rfind('/');  // pointer/INDEX -> NAME[INDEX], like the other list variables
        if (slash != std::string::npos) e.where = where + "[" + e.where.substr(slash + 1) + "]";
        return e;
    }
    out = std::move(*patterns);
    return {};
}

inline std::vector<std::string> string_array(const boost::json::value* v) {
    std::vector<std::string> out;
    if (!v || !v->is_array()) return out;
    for (const auto& item : v->get_array())
        if (item.is_string()) out.emplace_back(item.get_string().data(), item.get_string().size());
    return out;
}

// `network.egress.allow` / `deny` (types already checked by the schema), with the executor's value
// checks and messages (make_peer, make_port_spec) at the ceiling's own JSON pointers.
inline Result<std::vector<EgressRule>> ceiling_egress_rules(const boost::json::object& egress, const char* key) {
    std::vector<EgressRule> out;
    const boost::json::value* list = egress.if_contains(key);
    if (!list) return out;
    const std::string base = std::string("/network/egress/") + key;
    for (std::size_t i = 0; i < list->get_array().size(); ++i) {
        const std::string at = pointer_child(base, i);
        const boost::json::object& r = list->get_array()[i].get_object();
        EgressRule rule;
        if (const auto* to = r.if_contains("to")) {
            rule.to.emplace();
            for (std::size_t k = 0; k < to->get_array().size(); ++k) {
                const boost::json::object& peer = to->get_array()[k].get_object();
                std::vector<std::string> except = string_array(peer.if_contains("except"));
                const auto& cidr = peer.at("cidr").get_string();
                auto p = make_peer(std::string_view(cidr.data(), cidr.size()), except, pointer_child(at + "/to", k));
                if (!p) return p.error();
                rule.to->push_back(std::move(*p));
            }
        }
        if (const auto* ports = r.if_contains("ports")) {
            rule.ports.emplace();
            for (std::size_t k = 0; k < ports->get_array().size(); ++k) {
                const boost::json::object& port = ports->get_array()[k].get_object();
                auto number = [&port](const char* name) -> std::optional<std::int64_t> {
                    if (const auto* v = port.if_contains(name)) return integer_of(*v);
                    return std::nullopt;
                };
                std::optional<std::string_view> protocol;
                if (const auto* v = port.if_contains("protocol"))
                    protocol = std::string_view(v->get_string().data(), v->get_string().size());
                auto spec = make_port_spec(number("port"), number("endPort"), protocol, pointer_child(at + "/ports", k));
                if (!spec) return spec.error();
                rule.ports->push_back(*spec);
            }
        }
        if (Status s = check_rule(rule, at); !s) return s.error();
        out.push_back(std::move(rule));
    }
    return out;
}

// The ceiling's egress rules, and the combinations that would say two things at once.
inline Status ceiling_egress(const boost::json::object& network, Ceiling& c) {
    const boost::json::value* egress = network.if_contains("egress");
    if (!egress) return {};
    for (auto [key, list] : {std::pair{"allow", &c.egress.allow}, std::pair{"deny", &c.egress.deny}}) {
        auto rules = ceiling_egress_rules(egress->get_object(), key);
        if (!rules) return rules.error();
        *list = std::move(*rules);
    }
    if (Status s = check_egress(c.egress); !s) return s.error();
    // What only the set can tell: IPv6 blocks the executor refuses, sets too large to compare.
    for (auto [key, list] : {std::pair{"/network/egress/allow", &c.egress.allow}, std::pair{"/network/egress/deny", &c.egress.deny}})
        if (auto set = EgressSet::from_rules(*list, key); !set) return set.error();
    if (!c.egress.allow.empty() && c.network == NetworkDefault::allow)
        return make_error(ErrorCode::invalid_policy,
                          "egress allow rules under defaultPolicy \"allow\" would allow nothing more: state the rules, "
                          "or allow everything and list what to deny",
                          "/network/egress/allow");
    if ((!c.egress.allow.empty() || !c.egress.deny.empty()) && !c.allowed_hosts.empty())
        return make_error(ErrorCode::invalid_policy,
                          "egress rules and allowedHosts cannot be mixed (host lists are never enforced; state CIDR rules)",
                          "/network/egress");
    return {};
}

// The format version is read first, so that a newer ceiling is refused for its version rather than
// for the fields this cordon does not know yet.
inline Status check_ceiling_version(const boost::json::value& doc) {
    const boost::json::value* v = doc.is_object() ? doc.get_object().if_contains("version") : nullptr;
    if (!v) return {};  // absent: format 1, as every ceiling written before the field existed
    auto n = integer_of(*v);
    if (n && *n == ceiling_format_version) return {};
    std::string why = "this cordon reads ceiling format " + std::to_string(ceiling_format_version) + ", not " +
                      boost::json::serialize(*v);
    if (v->is_string()) why += " (a ceiling is not an MXC config: its `version` is a format number)";
    else if (n && *n > ceiling_format_version) why += " (written for a newer cordon)";
    return make_error(ErrorCode::invalid_policy, why, "/version");
}

inline Result<Ceiling> ceiling_from_value(const boost::json::value& doc, const CeilingOptions& options) {
    if (Status s = check_ceiling_version(doc); !s) return s.error();
    Violations violations = ceiling_schema_violations(doc);
    if (!violations.empty()) return to_error(violations);
    const boost::json::object& obj = doc.get_object();

    Ceiling c;
    c.style = options.style;
    c.canonical = options.canonicalize;
    CeilingDecoder(violations).decode(obj, c);
    if (!violations.empty()) return to_error(violations);
    if (auto* net = obj.if_contains("network")) {
        const boost::json::object& network = net->get_object();
        if (Status s = ceiling_egress(network, c); !s) return s.error();
        auto domains = parse_domain_patterns(string_array(network.if_contains("allowedDomains")), "/network/allowedDomains");
        if (!domains) return domains.error();
        c.allowed_domains = std::move(*domains);
        if (const auto* hosts = network.if_contains("proxyHostsFile")) c.proxy_hosts_file = std::string(hosts->get_string());
        auto where = [](std::size_t i) { return pointer_child("/network/allowedInternal", i); };
        if (Status s = internal_blocks(string_array(network.if_contains("allowedInternal")), where, c.proxy_allowed_internal); !s)
            return s.error();
    }
    for (auto [key, list] : {std::pair{"readonlyPaths", &c.readonly}, std::pair{"readwritePaths", &c.readwrite},
                             std::pair{"deniedPaths", &c.denied}, std::pair{"allowedSockets", &c.allowed_sockets}}) {
        std::string base = pointer_child("", key);
        auto where = [&](std::size_t i) { return pointer_child(base, i); };
        if (Status s = ceiling_roots(string_array(obj.if_contains(key)), options, where, *list); !s) return s.error();
    }
    if (auto* t = obj.if_contains("timeout"))
        if (auto n = integer_of(*t)) c.timeout = Timeout::ms(static_cast<std::uint32_t>(*n));
    if (auto* limits = obj.if_contains("limits"))
        for (const LimitField& f : limit_fields)
            if (auto* v = limits->get_object().if_contains(f.name))
                if (auto n = integer_of(*v)) c.limits.*f.member = static_cast<std::uint64_t>(*n);
    std::optional<std::string> run_as;
    if (auto* v = obj.if_contains("runAs")) run_as = std::string(v->get_string());
    auto ids = run_as_for(run_as, "/runAs");
    if (!ids) return ids.error();
    c.run_as = *ids;
    if (auto* env = obj.if_contains("env")) {
        c.env_allow = string_array(env->get_object().if_contains("allow"));
        for (std::size_t i = 0; i < c.env_allow.size(); ++i)
            if (c.env_allow[i].find_first_of(std::string_view("=\0", 2)) != std::string::npos)
                return make_error(ErrorCode::invalid_policy, "a variable name (or glob) holds no '=' and no NUL",
                                  pointer_child(pointer_child("/env", "allow"), i));
    }
    for (const std::string& name : string_array(obj.if_contains("requestMaySet")))
        for (const auto& [n, f] : EnumNames<RequestField>::table)
            if (n == name) c.request_may_set.push_back(f);
    return c;
}

// One environment ceiling variable's value, read into `c`; `name` is the variable, as errors name it.
using EnvVariableReader = Status (*)(const std::string& value, const std::string& name, const CeilingOptions& options,
                                     Ceiling& c);

template <std::vector<Path> Ceiling::*List>
Status env_roots(const std::string& value, const std::string& name, const CeilingOptions& options, Ceiling& c) {
    auto items = split_path_list(value, options.style, name);
    if (!items) return items.error();
    auto where = [&](std::size_t i) { return name + "[" + std::to_string(i) + "]"; };
    return ceiling_roots(*items, options, where, c.*List);
}

inline Status env_timeout(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    bool digits = !value.empty() && value.size() <= 10 && value.find_first_not_of("0123456789") == std::string::npos;
    unsigned long long n = digits ? std::stoull(value) : 0;
    if (!digits || n > Timeout::max_ms)
        return make_error(ErrorCode::invalid_policy,
                          "expected milliseconds from 0 to " + std::to_string(Timeout::max_ms) +
                              " (0 means no limit), got \"" + value + "\"",
                          name);
    c.timeout = Timeout::ms(static_cast<std::uint32_t>(n));
    return {};
}

inline Status env_network(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    if (value == "block") c.network = NetworkDefault::block;
    else if (value == "allow") c.network = NetworkDefault::allow;
    else return make_error(ErrorCode::invalid_policy, "expected \"block\" or \"allow\", got \"" + value + "\"", name);
    return {};
}

inline Status env_allow(const std::string& value, const std::string& name, const CeilingOptions& options, Ceiling& c) {
    auto items = split_path_list(value, options.style, name);
    if (!items) return items.error();
    for (const std::string& item : *items)
        if (item.find('=') != std::string::npos)
            return make_error(ErrorCode::invalid_policy, "a variable name (or glob) holds no '='", name);
    c.env_allow = std::move(*items);
    return {};
}

inline Status env_run_as(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    auto run_as = run_as_for(value, name);
    if (!run_as) return run_as.error();
    c.run_as = *run_as;
    return {};
}

template <std::vector<EgressRule> Egress::*List>
Status env_egress_rules(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    return env_egress(value, name, c.egress.*List);
}

inline Status env_proxy_hosts_file(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    if (value.empty()) return make_error(ErrorCode::invalid_policy, "expected a file name, got nothing", name);
    c.proxy_hosts_file = value;
    return {};
}

inline Status env_allowed_internal(const std::string& value, const std::string& name, const CeilingOptions&, Ceiling& c) {
    auto where = [&](std::size_t i) { return name + "[" + std::to_string(i) + "]"; };
    return internal_blocks(split_commas(value), where, c.proxy_allowed_internal);
}

struct EnvVariable {
    std::string_view suffix;
    EnvVariableReader read;
};

// Every variable of an environment ceiling with its reader, in ceiling_env_suffixes' order (which
// the static_assert below holds this table to: the list is said here, and checked there).
inline constexpr std::array<EnvVariable, ceiling_env_suffixes.size()> env_variables{{
    {"READONLY_PATHS", env_roots<&Ceiling::readonly>},
    {"READWRITE_PATHS", env_roots<&Ceiling::readwrite>},
    {"DENIED_PATHS", env_roots<&Ceiling::denied>},
    {"ALLOWED_SOCKETS", env_roots<&Ceiling::allowed_sockets>},
    {"TIMEOUT_MS", env_timeout},
    {"NETWORK", env_network},
    {"ENV_ALLOW", env_allow},
    {"RUN_AS", env_run_as},
    {"LIMITS", [](const std::string& v, const std::string& n, const CeilingOptions&, Ceiling& c) { return env_limits(v, n, c.limits); }},
    {"EGRESS_ALLOW", env_egress_rules<&Egress::allow>},
    {"EGRESS_DENY", env_egress_rules<&Egress::deny>},
    {"ALLOWED_DOMAINS",
     [](const std::string& v, const std::string& n, const CeilingOptions&, Ceiling& c) { return env_domains(v, n, c.allowed_domains); }},
    {"PROXY_HOSTS_FILE", env_proxy_hosts_file},
    {"PROXY_ALLOWED_INTERNAL", env_allowed_internal},
}};

constexpr bool env_variables_match_suffixes() {
    for (std::size_t i = 0; i < env_variables.size(); ++i)
        if (env_variables[i].suffix != ceiling_env_suffixes[i]) return false;
    return true;
}
static_assert(env_variables_match_suffixes(), "env_variables must list ceiling_env_suffixes, in order");

inline Status check_env_prefix(std::string_view prefix) {
    if (prefix.empty() || prefix.back() != '_')
        return make_error(ErrorCode::invalid_policy,
                          "environment prefix must end in '_' (e.g. CORDON_); an empty one would read bare "
                          "variable names such as NETWORK",
                          std::string(prefix));
    for (char ch : prefix)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return make_error(ErrorCode::invalid_policy, "environment prefix may hold only letters, digits and '_'",
                              std::string(prefix));
    return {};
}

}  // namespace detail

CORDON_FUNC Result<Ceiling> ceiling_from_env(std::string_view prefix, const CeilingOptions& options,
                                             const EnvLookup& lookup) {
    try {
        if (Status s = detail::check_ceiling_options(options); !s) return s.error();
        if (Status s = detail::check_env_prefix(prefix); !s) return s.error();
        Ceiling c;
        c.style = options.style;
        c.canonical = options.canonicalize;
        for (const detail::EnvVariable& variable : detail::env_variables) {
            const std::string name = std::string(prefix) + std::string(variable.suffix);
            if (auto value = lookup(name))
                if (Status s = variable.read(*value, name, options, c); !s) return s.error();
        }
        if (!c.egress.allow.empty() && c.network == NetworkDefault::allow)
            return make_error(ErrorCode::invalid_policy,
                              "egress allow rules under NETWORK=allow would allow nothing more: state the rules, or "
                              "allow everything and list what to deny",
                              std::string(prefix) + "EGRESS_ALLOW");
        c.source = "environment " + std::string(prefix) + "*";
        return c;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while reading the ceiling environment: ") + e.what());
    }
}

CORDON_FUNC Result<Ceiling> parse_ceiling(std::string_view text, const CeilingOptions& options) {
    try {
        if (Status s = detail::check_ceiling_options(options); !s) return s.error();
        boost::json::value doc;
        Violation syntax;
        if (!detail::parse_strict_json(text, doc, syntax)) return to_error({syntax});
        return detail::ceiling_from_value(doc, options);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while reading a ceiling: ") + e.what());
    }
}

namespace detail {

inline Result<Ceiling> load_ceiling_with(const std::string& file, const CeilingOptions& options, FileTrust trust) {
    try {
        auto read = read_input_file(file, max_config_bytes, trust, trust == FileTrust::system ? "system ceiling" : "ceiling file");
        if (!read) return read.error();
        auto c = parse_ceiling(read->text, options);
        if (!c) {
            Error e = c.error();
            e.where = e.where.empty() ? file : file + ": " + e.where;
            return e;
        }
        // The anchor is the file that was read, by its own (one, see read_input_file) name; lexically
        // only when that is spelled in `style`.
        std::string anchor = read->real_path;
        if (anchor.empty()) {
            std::error_code ec;
            anchor = std::filesystem::absolute(file, ec).string();
            if (ec) anchor = file;
        }
        if (options.canonicalize) {
            auto r = canonical(anchor);
            if (!r || r->state == Resolution::unknown)
                return make_error(ErrorCode::io_error, "cannot canonicalise the ceiling file's own path", file);
            c->source_file = std::move(r->path);
        } else if (auto p = Path::parse(anchor, options.style)) {
            c->source_file = std::move(*p);
        }
        c->source = file;
        return c;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while loading a ceiling: ") + e.what(), file);
    }
}

}  // namespace detail

CORDON_FUNC Result<Ceiling> load_ceiling_file(const std::string& file, const CeilingOptions& options) {
    return detail::load_ceiling_with(file, options, detail::FileTrust::anchor);
}

CORDON_FUNC Result<Ceiling> load_system_ceiling(const std::string& file, const CeilingOptions& options) {
#if defined(_WIN32)
    (void)options;  // who may write it cannot be checked there yet (ACLs): never trusted
    return make_error(ErrorCode::invalid_policy, "a system ceiling is not supported on Windows yet", file);
#else
    return detail::load_ceiling_with(file, options, detail::FileTrust::system);
#endif
}

}  // namespace cordon
