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

#include <boost/json/value.hpp>

#include "cordon/ceiling_loader.hpp"
#include "cordon/contract.hpp"
#include "cordon/detail/input_file.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/schema_check.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/impl/mxc_decode.hpp"
#include "cordon/violation.hpp"

namespace cordon {
namespace detail {

inline std::vector<std::string> string_array(const boost::json::value* v) {
    std::vector<std::string> out;
    if (!v || !v->is_array()) return out;
    for (const auto& item : v->get_array())
        if (item.is_string()) out.emplace_back(item.get_string().data(), item.get_string().size());
    return out;
}

inline Result<Ceiling> ceiling_from_value(const boost::json::value& doc, const CeilingOptions& options) {
    Violations violations = ceiling_schema_violations(doc);
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
                             std::pair{"deniedPaths", &c.denied}, std::pair{"allowedSockets", &c.allowed_sockets}}) {
        std::string base = pointer_child("", key);
        auto where = [&](std::size_t i) { return pointer_child(base, i); };
        if (Status s = ceiling_roots(string_array(obj.if_contains(key)), options, where, *list); !s) return s.error();
    }
    if (auto* t = obj.if_contains("timeout"))
        if (auto n = integer_of(*t)) c.timeout = Timeout::ms(static_cast<std::uint32_t>(*n));
    if (auto* env = obj.if_contains("env")) {
        c.env_allow = string_array(env->get_object().if_contains("allow"));
        for (std::size_t i = 0; i < c.env_allow.size(); ++i)
            if (c.env_allow[i].find_first_of(std::string_view("=\0", 2)) != std::string::npos)
                return make_error(ErrorCode::invalid_policy, "a variable name (or glob) holds no '=' and no NUL",
                                  pointer_child(pointer_child("/env", "allow"), i));
    }
    for (const std::string& name : string_array(obj.if_contains("requestMaySet")))
        for (const auto& [n, f] : request_field_names)
            if (n == name) c.request_may_set.push_back(f);
    fields.process = ProcessSpec{};
    fields.containment.reset();
    c.fields = std::move(fields);
    return c;
}

}  // namespace detail


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

CORDON_FUNC Result<Ceiling> load_ceiling_file(const std::string& file, const CeilingOptions& options) {
    try {
        auto read = detail::read_input_file(file, detail::max_config_bytes, detail::FileTrust::anchor, "ceiling file");
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
        return c;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while loading a ceiling: ") + e.what(), file);
    }
}

}  // namespace cordon
