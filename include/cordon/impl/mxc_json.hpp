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

namespace cordon {
namespace detail {

// Executors from SDK 0.9.0 on require `version` and compare it exactly.
CORDON_FUNC const Contract* contract_of(const boost::json::value& doc, Violations& out) {
    if (!doc.is_object()) {
        out.push_back({"", "expected the config to be a JSON object, got " + std::string(json_kind_name(doc))});
        return nullptr;
    }
    std::string supported;
    for (const Contract* c : known_contracts) supported += (supported.empty() ? "\"" : ", \"") + std::string(c->version) + "\"";
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
    if (const Contract* c = find_contract(text)) return c;
    out.push_back({"/version", "unsupported contract version \"" + std::string(text) + "\"; cordon reads " + supported +
                                   " (exact spelling, as MXC executors from SDK 0.9.0 on compare it)"});
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

inline Policy check_text(std::string_view text, Violations& out) {
    boost::json::value doc;
    Violation syntax;
    if (!parse_strict_json(text, doc, syntax)) {
        out.push_back(std::move(syntax));
        return Policy{};
    }
    const Contract* contract = contract_of(doc, out);
    if (!contract) return Policy{};
    return check_value(doc, *contract, out);
}

}  // namespace detail

CORDON_FUNC Violations validate(std::string_view text) {
    Violations out;
    try {
        detail::check_text(text, out);
    } catch (const std::exception& e) {  // allocation failure or a bug: never report "valid"
        out.push_back({"", std::string("internal error while validating: ") + e.what()});
    }
    return out;
}

CORDON_FUNC Result<Policy> from_mxc_json(std::string_view text) {
    try {
        Violations violations;
        Policy policy = detail::check_text(text, violations);
        if (!violations.empty()) return to_error(violations);
        return policy;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while parsing an MXC config: ") + e.what());
    }
}

CORDON_FUNC Result<std::string> to_mxc_json(const Policy& policy, const Contract& contract) {
    try {
        boost::json::value doc = detail::encode_policy(policy, contract);
        Violations violations;
#if CORDON_CHECK_OWN_OUTPUT
        detail::check_value(doc, contract, violations);  // decoder and schema, as for foreign input
#else
        detail::decode_policy(doc, contract, violations);  // the contract's rules; see config.hpp
#endif
        if (!violations.empty()) {
            Error e = to_error(violations);
            e.message = "policy cannot be emitted for contract " + std::string(contract.version) + ": " + e.message;
            return e;
        }
        return boost::json::serialize(doc);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while emitting an MXC config: ") + e.what());
    }
}

}  // namespace cordon
