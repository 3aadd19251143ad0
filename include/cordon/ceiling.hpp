// SPDX-License-Identifier: MIT
// cordon: the operator ceiling (what may ever be granted), from a JSON file or environment variables, canonicalised once.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/canonical.hpp"
#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/detail/ceiling_schema.hpp"
#include "cordon/detail/mxc_decode.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/error.hpp"
#include "cordon/path.hpp"
#include "cordon/policy.hpp"
#include "cordon/timeout.hpp"
#include "cordon/violation.hpp"

namespace cordon {

/// Request fields that come from the ceiling unless the ceiling's `requestMaySet` names them.
enum class RequestField : std::uint8_t {
    container_id,
    lifecycle,
    fallback_allow_dacl_mutation,
    network_proxy,
    network_enforcement_mode,
    network_allow_local_network,
    ui,
    process_container_capabilities,
    process_container_least_privilege,
    process_container_ui,
    seatbelt,                   ///< every seatbelt field except profileOverride
    seatbelt_profile_override,  ///< a whole SBPL profile: named on its own because it replaces the sandbox
    lxc,
};

inline constexpr std::array<std::pair<std::string_view, RequestField>, 13> request_field_names{{
    {"containerId", RequestField::container_id},
    {"lifecycle", RequestField::lifecycle},
    {"fallback.allowDaclMutation", RequestField::fallback_allow_dacl_mutation},
    {"network.proxy", RequestField::network_proxy},
    {"network.enforcementMode", RequestField::network_enforcement_mode},
    {"network.allowLocalNetwork", RequestField::network_allow_local_network},
    {"ui", RequestField::ui},
    {"processContainer.capabilities", RequestField::process_container_capabilities},
    {"processContainer.leastPrivilege", RequestField::process_container_least_privilege},
    {"processContainer.ui", RequestField::process_container_ui},
    {"seatbelt", RequestField::seatbelt},
    {"seatbelt.profileOverride", RequestField::seatbelt_profile_override},
    {"lxc", RequestField::lxc},
}};

constexpr std::string_view to_string(RequestField f) noexcept {
    for (const auto& [name, value] : request_field_names)
        if (value == f) return name;
    return "?";
}

/// What an operator allows. Paths are canonical (when loaded with canonicalisation) or lexically
/// normalised, in `style`; they are never resolved again by clamp.
struct Ceiling {
    PathStyle style = host_path_style();
    bool canonical = false;                  ///< paths were canonicalised on this host at load time
    std::optional<Containment> containment;  ///< absent: the backend whose capabilities clamp is given
    std::vector<Path> readonly;              ///< read-only roots
    std::vector<Path> readwrite;             ///< read-write roots (also readable)
    std::vector<Path> denied;                ///< always denied, added to every clamped policy
    Timeout timeout;                         ///< none: the operator set no limit
    NetworkDefault network = NetworkDefault::block;
    std::vector<std::string> allowed_hosts;  ///< non-empty: network only to these hosts
    std::vector<std::string> env_allow;      ///< variable names or globs (`LC_*`)
    /// The ceiling's own values for fields a request may not set (containerId, lifecycle, fallback,
    /// ui, processContainer, seatbelt, lxc, network.enforcementMode/allowLocalNetwork/proxy).
    /// Its process, filesystem and containment are unused.
    Policy fields;
    std::vector<RequestField> request_may_set;
    std::optional<Path> source_file;  ///< the ceiling file in use: a trust anchor, never writable

    bool allows_network() const noexcept { return network == NetworkDefault::allow || !allowed_hosts.empty(); }
    bool request_may(RequestField f) const noexcept {
        for (RequestField g : request_may_set)
            if (g == f) return true;
        return false;
    }
};

struct CeilingOptions {
    PathStyle style = host_path_style();
    /// false: lexical normalisation only (any style on any host; symlinks are not followed).
    bool canonicalize = true;
};

/// Environment lookup used by ceiling_from_env (injectable for tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

inline std::optional<std::string> process_env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}

namespace detail {

inline Status check_ceiling_options(const CeilingOptions& options) {
    if (options.canonicalize && options.style != host_path_style())
        return make_error(ErrorCode::invalid_policy,
                          std::string("cannot canonicalise ") + std::string(to_string(options.style)) +
                              " paths on this host; load the ceiling lexically (--no-canonical)");
    return {};
}

// One ceiling root, resolved once. `where` names the input (JSON pointer or variable).
inline Result<Path> ceiling_root(std::string_view text, const CeilingOptions& options, const std::string& where) {
    auto fail = [&](const std::string& why) {
        return make_error(ErrorCode::invalid_policy, "\"" + std::string(text) + "\": " + why, where);
    };
    if (!options.canonicalize) {
        auto p = Path::parse(text, options.style);
        if (!p) return fail(p.error().message);
        return std::move(*p);
    }
    auto r = canonical(text);
    if (!r) return fail(r.error().message);
    if (r->state == Resolution::unknown) return fail("cannot be resolved (" + r->reason + ")");
    return std::move(r->path);
}

inline Status ceiling_roots(const std::vector<std::string>& texts, const CeilingOptions& options,
                            const std::function<std::string(std::size_t)>& where, std::vector<Path>& out) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto p = ceiling_root(texts[i], options, where(i));
        if (!p) return p.error();
        out.push_back(std::move(*p));
    }
    return {};
}

inline std::vector<std::string> string_array(const boost::json::value* v) {
    std::vector<std::string> out;
    if (!v || !v->is_array()) return out;
    for (const auto& item : v->get_array())
        if (item.is_string()) out.emplace_back(item.get_string().data(), item.get_string().size());
    return out;
}

inline Result<Ceiling> ceiling_from_value(const boost::json::value& doc, const CeilingOptions& options) {
    Violations violations = schema_violations(doc, compiled_ceiling_schema());
    if (!violations.empty()) return to_error(violations);
    const boost::json::object& obj = doc.get_object();

    // The MXC-shaped sections are decoded by the MXC decoder itself, from a config holding only
    // them, so the ceiling obeys the same cross-field rules (backend sections, proxy) with the same
    // JSON pointers.
    boost::json::object mxc;
    mxc["version"] = contract_0_7_0_alpha.version;
    mxc["process"] = boost::json::object{{"commandLine", "ceiling"}};
    for (std::string_view key : {"containment", "containerId", "lifecycle", "fallback", "network", "ui",
                                 "processContainer", "seatbelt", "lxc"})
        if (auto* v = obj.if_contains(key)) mxc[key] = *v;
    Policy fields = MxcDecoder(contract_0_7_0_alpha, violations).decode(mxc);
    if (!violations.empty()) return to_error(violations);

    Ceiling c;
    c.style = options.style;
    c.canonical = options.canonicalize;
    c.containment = fields.containment;
    if (fields.network) {
        c.network = fields.network->effective_default();
        c.allowed_hosts = fields.network->allowed_hosts;
    }
    for (auto [key, list] : {std::pair{"readonlyPaths", &c.readonly}, std::pair{"readwritePaths", &c.readwrite},
                             std::pair{"deniedPaths", &c.denied}}) {
        std::string base = pointer_child("", key);
        auto where = [&](std::size_t i) { return pointer_child(base, i); };
        if (Status s = ceiling_roots(string_array(obj.if_contains(key)), options, where, *list); !s) return s.error();
    }
    if (auto* t = obj.if_contains("timeout"))
        if (auto n = integer_of(*t)) c.timeout = Timeout::ms(static_cast<std::uint32_t>(*n));
    if (auto* env = obj.if_contains("env"))
        c.env_allow = string_array(env->get_object().if_contains("allow"));
    for (const std::string& name : string_array(obj.if_contains("requestMaySet")))
        for (const auto& [n, f] : request_field_names)
            if (n == name) c.request_may_set.push_back(f);
    fields.process = ProcessSpec{};
    fields.containment.reset();
    c.fields = std::move(fields);
    return c;
}

}  // namespace detail

/// Parses a ceiling document: strict JSON, then the closed schema (valijson), then the MXC
/// decoder's rules for the MXC sections; paths canonicalised (or normalised) once, here.
/// Errors: invalid-policy with `where` = the JSON pointer of the first problem.
inline Result<Ceiling> parse_ceiling(std::string_view text, const CeilingOptions& options = {}) {
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

/// Reads and parses a ceiling file, and records it as the trust anchor `source_file`.
/// Errors: io-error naming the file; otherwise as parse_ceiling, with `where` = "FILE: POINTER".
inline Result<Ceiling> load_ceiling_file(const std::string& file, const CeilingOptions& options = {}) {
    try {
        std::ifstream in(file, std::ios::binary);
        if (!in) return make_error(ErrorCode::io_error, "cannot open ceiling file for reading", file);
        std::string text;
        char buffer[65536];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            text.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (text.size() > detail::max_config_bytes)
                return make_error(ErrorCode::invalid_policy, "ceiling file is too large", file);
        }
        if (in.bad()) return make_error(ErrorCode::io_error, "error while reading ceiling file", file);
        auto c = parse_ceiling(text, options);
        if (!c) {
            Error e = c.error();
            e.where = e.where.empty() ? file : file + ": " + e.where;
            return e;
        }
        // The anchor is the file as the host sees it; lexically, only when it is spelled in `style`.
        std::error_code ec;
        std::string absolute = std::filesystem::absolute(file, ec).string();
        if (ec) absolute = file;
        if (options.canonicalize) {
            auto r = canonical(absolute);
            if (!r || r->state == Resolution::unknown)
                return make_error(ErrorCode::io_error, "cannot canonicalise the ceiling file's own path", file);
            c->source_file = std::move(r->path);
        } else if (auto p = Path::parse(absolute, options.style)) {
            c->source_file = std::move(*p);
        }
        return c;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while loading a ceiling: ") + e.what(), file);
    }
}

/// Splits an environment path list: `;` for Windows style (drive letters keep their colon, on any
/// host), `:` for POSIX. An empty value is an empty list; an empty entry is an error.
/// Errors: invalid-policy with `where` = `variable`.
inline Result<std::vector<std::string>> split_path_list(std::string_view value, PathStyle style,
                                                        const std::string& variable = {}) {
    std::vector<std::string> out;
    if (value.empty()) return out;
    const char sep = style == PathStyle::windows ? ';' : ':';
    std::size_t index = 0;
    while (true) {
        auto cut = value.find(sep);
        std::string_view item = value.substr(0, cut);
        if (item.empty())
            return make_error(ErrorCode::invalid_policy,
                              "empty entry #" + std::to_string(index) + " in the list (separator '" +
                                  std::string(1, sep) + "' for " + std::string(to_string(style)) + " paths)",
                              variable);
        out.emplace_back(item);
        ++index;
        if (cut == std::string_view::npos) break;
        value.remove_prefix(cut + 1);
    }
    return out;
}

/// The ceiling from environment variables named PREFIX + READONLY_PATHS, READWRITE_PATHS,
/// DENIED_PATHS (lists, see split_path_list), TIMEOUT_MS (0..4294967295, 0 = no limit),
/// NETWORK (block|allow) and ENV_ALLOW (names or globs, same separator). Unset means the
/// default (nothing granted, no limit, block); a bad value is an error, never a default.
/// Errors: invalid-policy with `where` = the variable name.
inline Result<Ceiling> ceiling_from_env(std::string_view prefix = "CORDON_", const CeilingOptions& options = {},
                                        const EnvLookup& lookup = process_env) {
    try {
        if (Status s = detail::check_ceiling_options(options); !s) return s.error();
        for (char ch : prefix)
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
                return make_error(ErrorCode::invalid_policy, "environment prefix may hold only letters, digits and '_'",
                                  std::string(prefix));
        Ceiling c;
        c.style = options.style;
        c.canonical = options.canonicalize;
        for (auto [suffix, list] : {std::pair{"READONLY_PATHS", &c.readonly}, std::pair{"READWRITE_PATHS", &c.readwrite},
                                    std::pair{"DENIED_PATHS", &c.denied}}) {
            std::string name = std::string(prefix) + suffix;
            auto value = lookup(name);
            if (!value) continue;
            auto items = split_path_list(*value, options.style, name);
            if (!items) return items.error();
            auto where = [&](std::size_t i) { return name + "[" + std::to_string(i) + "]"; };
            if (Status s = detail::ceiling_roots(*items, options, where, *list); !s) return s.error();
        }
        std::string name = std::string(prefix) + "TIMEOUT_MS";
        if (auto value = lookup(name)) {
            bool digits = !value->empty() && value->size() <= 10 &&
                          value->find_first_not_of("0123456789") == std::string::npos;
            unsigned long long n = digits ? std::stoull(*value) : 0;
            if (!digits || n > 4294967295ULL)
                return make_error(ErrorCode::invalid_policy,
                                  "expected milliseconds from 0 to 4294967295 (0 means no limit), got \"" + *value + "\"",
                                  name);
            c.timeout = Timeout::ms(static_cast<std::uint32_t>(n));
        }
        name = std::string(prefix) + "NETWORK";
        if (auto value = lookup(name)) {
            if (*value == "block") c.network = NetworkDefault::block;
            else if (*value == "allow") c.network = NetworkDefault::allow;
            else return make_error(ErrorCode::invalid_policy, "expected \"block\" or \"allow\", got \"" + *value + "\"", name);
        }
        name = std::string(prefix) + "ENV_ALLOW";
        if (auto value = lookup(name)) {
            auto items = split_path_list(*value, options.style, name);
            if (!items) return items.error();
            c.env_allow = std::move(*items);
        }
        return c;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while reading the ceiling environment: ") + e.what());
    }
}

}  // namespace cordon
