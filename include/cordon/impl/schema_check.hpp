// SPDX-License-Identifier: MIT
// cordon: implementation of detail/schema_check.hpp: the embedded schemas compiled once for valijson.
// The only translation unit of the compiled library that includes valijson (src/schema_check.cpp).
#pragma once

#if !defined(VALIJSON_USE_EXCEPTIONS) || VALIJSON_USE_EXCEPTIONS != 1
#error "cordon: build with -DVALIJSON_USE_EXCEPTIONS=1 (the cordon dependencies and .pc files set it)"
#endif

#include <cstdlib>  // std::strtoul
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
// valijson calls numeric_limits<T>::max(): shield it from the min and max macros of <windows.h>
// (an embedder that includes it without NOMINMAX), and give the embedder its macros back after.
#pragma push_macro("min")
#pragma push_macro("max")
#undef min
#undef max
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#pragma pop_macro("max")
#pragma pop_macro("min")

#include "cordon/detail/embedded_schemas.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/schema_check.hpp"

namespace cordon::detail {

inline std::unique_ptr<valijson::Schema> compile_schema(std::string_view text) {
    auto schema = std::make_unique<valijson::Schema>();
    boost::json::value doc = boost::json::parse(boost::json::string_view(text.data(), text.size()));
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::BoostJsonAdapter adapter(doc);
    parser.populateSchema(adapter, *schema);
    return schema;
}

// Parsed once per process (thread-safe static initialisation), on first use.
inline const valijson::Schema& compiled_schema(const Contract& contract) {
    struct Compiled {
        const Contract* contract;
        std::unique_ptr<valijson::Schema> schema;
    };
    static const std::vector<Compiled> cache = [] {
        std::vector<Compiled> out;
        for (const Contract* c : known_contracts) out.push_back({c, compile_schema(c->schema)});
        return out;
    }();
    for (const auto& entry : cache)
        if (entry.contract->version == contract.version) return *entry.schema;
    throw std::logic_error("cordon: contract " + std::string(contract.version) + " has no embedded schema");
}

inline const valijson::Schema& compiled_ceiling_schema() {
    static const std::unique_ptr<valijson::Schema> schema = compile_schema(schema_ceiling);
    return *schema;
}

// valijson names a location as {"<root>", "[process]", "[0]"}; walk the document to tell an array
// index from an object key and build the JSON pointer.
inline std::string context_to_pointer(const std::vector<std::string>& context, const boost::json::value& root) {
    std::string pointer;
    const boost::json::value* at = &root;
    for (std::size_t i = 1; i < context.size(); ++i) {
        const std::string& part = context[i];
        std::string token = part.size() >= 2 ? part.substr(1, part.size() - 2) : part;
        pointer = pointer_child(pointer, token);
        if (!at) continue;
        if (at->is_object()) at = at->get_object().if_contains(token);
        else if (at->is_array()) {
            std::size_t index = std::strtoul(token.c_str(), nullptr, 10);
            at = index < at->get_array().size() ? &at->get_array()[index] : nullptr;
        } else at = nullptr;
    }
    return pointer;
}

/// Schema violations against any compiled schema, leaves only: valijson also reports every enclosing
/// schema that failed ("Failed to validate against schema associated with property name 'process'").
inline Violations schema_violations(const boost::json::value& document, const valijson::Schema& schema) {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    valijson::adapters::BoostJsonAdapter target(document);
    Violations out;
    if (validator.validate(schema, target, &results)) return out;
    std::vector<valijson::ValidationResults::Error> errors;
    valijson::ValidationResults::Error e;
    while (results.popError(e)) errors.push_back(e);
    for (const auto& error : errors) {
        bool summary = error.description.rfind("Failed to validate against schema associated with property", 0) == 0 ||
                       error.description.rfind("Failed to validate item #", 0) == 0;
        if (summary) continue;
        std::string pointer = context_to_pointer(error.context, document);
        const std::string unknown = "Object contains a property that could not be validated using 'properties' or "
                                    "'additionalProperties' constraints: '";
        if (error.description.rfind(unknown, 0) == 0) {
            std::string name = error.description.substr(unknown.size());
            if (name.size() >= 2) name.resize(name.size() - 2);  // strip "'."
            out.push_back({pointer_child(pointer, name), "schema: unknown field `" + name + "`"});
            continue;
        }
        out.push_back({pointer, "schema: " + error.description});
    }
    return out;
}

CORDON_FUNC Violations schema_violations(const boost::json::value& document, const Contract& contract) {
    return schema_violations(document, compiled_schema(contract));
}

CORDON_FUNC Violations ceiling_schema_violations(const boost::json::value& document) {
    return schema_violations(document, compiled_ceiling_schema());
}

CORDON_FUNC Status compile_embedded_schemas() {
    try {
        for (const Contract* c : known_contracts) (void)compiled_schema(*c);
        (void)compiled_ceiling_schema();
        return {};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("an embedded schema does not compile: ") + e.what());
    }
}

}  // namespace cordon::detail
