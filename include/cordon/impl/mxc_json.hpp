// SPDX-License-Identifier: MIT
// cordon: implementation of mxc_json.hpp (strict parse, typed decoder, schema gate, encoder).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/schema_check.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/impl/mxc_decode.hpp"
#include "cordon/impl/mxc_encode.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/pins.hpp"

namespace cordon {
namespace detail {

inline std::string quoted_versions(std::string_view sdk_version) {
    std::string out;
    for (const Contract* c : known_contracts)
        if (sdk_version.empty() || sdk_accepts_contract(sdk_version, c->version))
            out += (out.empty() ? "\"" : ", \"") + std::string(c->version) + "\"";
    return out;
}

// Why a version string that names no contract cordon reads is refused.
inline std::string unsupported_version(std::string_view text, const Contract* c, const CheckOptions& options) {
    const std::string supported = quoted_versions(options.sdk_version);
    const std::string who = options.sdk_version.empty() ? std::string("cordon reads ")
                                                        : "executor SDK " + std::string(options.sdk_version) + " accepts ";
    if (c && c->development)
        return "contract \"" + std::string(text) +
               "\" is a development contract (executors register it for testing; its fields change without "
               "notice), so cordon neither checks nor emits it; use one of " + supported;
    if (c) return "contract \"" + std::string(text) + "\" is not accepted here: " + who + supported;
    return "unsupported contract version \"" + std::string(text) + "\"; " + who + supported +
           " (exact spelling, as MXC executors from SDK 0.9.0 on compare it)";
}

// Executors from SDK 0.9.0 on require `version` and compare it exactly.
CORDON_FUNC const Contract* contract_of(const boost::json::value& doc, Violations& out, const CheckOptions& options) {
    if (!doc.is_object()) {
        out.push_back({"", "expected the config to be a JSON object, got " + std::string(json_kind_name(doc))});
        return nullptr;
    }
    const std::string supported = quoted_versions(options.sdk_version);
    const boost::json::value* version = doc.get_object().if_contains("version");
    if (!version) {
        out.push_back({"", "missing required field `version`; expected one of " + supported});
        return nullptr;
    }
    if (!version->is_string()) {
        out.push_back({"/version", "expected a string (one of " + supported + "), got " +
                                       std::string(json_kind_name(*version))});
        return nullptr;
    }
    std::string_view text(version->get_string().data(), version->get_string().size());
    const Contract* c = find_contract(text);
    bool admitted = c && !c->development &&
                    (options.sdk_version.empty() || sdk_accepts_contract(options.sdk_version, c->version));
    if (admitted && options.contract && options.contract->version != c->version) {
        out.push_back({"/version", "expected contract \"" + std::string(options.contract->version) + "\", got \"" +
                                       std::string(text) + "\""});
        return nullptr;
    }
    if (admitted) return c;
    out.push_back({"/version", unsupported_version(text, c, options)});
    return nullptr;
}

CORDON_FUNC Policy decode_policy(const boost::json::value& doc, const Contract& contract, Violations& out) {
    return MxcDecoder(contract, out).decode(doc);
}

// Decoder and schema are two implementations of one contract: the decoder gives precise messages,
// the schema is the independent gate. A schema violation at a pointer the decoder left silent is
// still reported, so a disagreement can only make cordon stricter.
inline Policy check_value(const boost::json::value& doc, const Contract& contract, Violations& out) {
    Policy policy = decode_policy(doc, contract, out);
    std::size_t decoded = out.size();
    for (auto& v : schema_violations(doc, contract)) {
        bool covered = false;
        for (std::size_t i = 0; i < decoded && !covered; ++i) covered = out[i].pointer == v.pointer;
        if (!covered) out.push_back(std::move(v));
    }
    return policy;
}

inline Policy check_text(std::string_view text, Violations& out, const CheckOptions& options) {
    boost::json::value doc;
    Violation syntax;
    if (!parse_strict_json(text, doc, syntax)) {
        out.push_back(std::move(syntax));
        return Policy{};
    }
    const Contract* contract = contract_of(doc, out, options);
    if (!contract) return Policy{};
    return check_value(doc, *contract, out);
}

}  // namespace detail

CORDON_FUNC Violations validate(std::string_view text, const CheckOptions& options) {
    Violations out;
    try {
        detail::check_text(text, out, options);
    } catch (const std::exception& e) {  // allocation failure or a bug: never report "valid"
        out.push_back({"", std::string("internal error while validating: ") + e.what()});
    }
    return out;
}

CORDON_FUNC Result<Policy> from_mxc_json(std::string_view text, const CheckOptions& options) {
    try {
        Violations violations;
        Policy policy = detail::check_text(text, violations, options);
        if (!violations.empty()) return to_error(violations);
        return policy;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while parsing an MXC config: ") + e.what());
    }
}

CORDON_FUNC Result<std::string> to_mxc_json(const Policy& policy, const Contract& contract) {
    try {
        const std::string emitting = "policy cannot be emitted for contract " + std::string(contract.version) + ": ";
        if (auto v = inexpressible(policy, contract)) return make_error(ErrorCode::invalid_policy, emitting + v->message, v->pointer);
        // bwrap aborts (`setenv failed`) on an empty name, and cannot pass a NUL, after the checks.
        for (std::size_t i = 0; i < policy.process.env.size(); ++i) {
            const std::string entry = policy.process.env[i].entry();
            if (policy.process.env[i].name.empty())
                return make_error(ErrorCode::invalid_policy,
                                  emitting + "env entry \"" + entry + "\" has an empty variable name, which bubblewrap aborts on",
                                  detail::pointer_child("/process/env", i));
            if (entry.find('\0') != std::string::npos)
                return make_error(ErrorCode::invalid_policy,
                                  emitting + "env entry contains a NUL character, which no executor can pass on",
                                  detail::pointer_child("/process/env", i));
        }
        boost::json::value doc = detail::encode_policy(policy, contract);
        Violations violations;
#if CORDON_CHECK_OWN_OUTPUT
        detail::check_value(doc, contract, violations);  // decoder and schema, as for foreign input
#else
        detail::decode_policy(doc, contract, violations);  // the contract's rules; see config.hpp
#endif
        if (!violations.empty()) {
            Error e = to_error(violations);
            e.message = emitting + e.message;
            e.where = model_pointer(contract, e.where);
            return e;
        }
        return boost::json::serialize(doc);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while emitting an MXC config: ") + e.what());
    }
}

CORDON_FUNC std::string wire_pointer(const Contract& contract, std::string_view model_pointer) {
    return contract.family == ContractFamily::legacy ? detail::LegacyCodec::wire_pointer(model_pointer)
                                                     : detail::DirectionalCodec::wire_pointer(model_pointer);
}

CORDON_FUNC std::string model_pointer(const Contract& contract, std::string_view wire_pointer) {
    return contract.family == ContractFamily::legacy ? detail::LegacyCodec::model_pointer(wire_pointer)
                                                     : detail::DirectionalCodec::model_pointer(wire_pointer);
}

}  // namespace cordon
