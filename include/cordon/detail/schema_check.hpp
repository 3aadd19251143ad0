// SPDX-License-Identifier: MIT
// cordon: validation of a config value against a contract's embedded closed JSON Schema (valijson).
#pragma once

#if !defined(VALIJSON_USE_EXCEPTIONS) || VALIJSON_USE_EXCEPTIONS != 1
#error "cordon: build with -DVALIJSON_USE_EXCEPTIONS=1 (the cordon dependency and cordon.pc set it)"
#endif

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

// Parsed once per process and contract; a test parses every embedded schema, so a broken schema
// is a build failure, never a run-time surprise.
inline const valijson::Schema& compiled_schema(const Contract& contract) {
    struct Compiled {
        const Contract* contract;
        std::unique_ptr<valijson::Schema> schema;
    };
    static const std::vector<Compiled> cache = [] {
        std::vector<Compiled> out;
        for (const Contract* c : known_contracts) {
            auto schema = std::make_unique<valijson::Schema>();
            boost::json::value doc = boost::json::parse(boost::json::string_view(c->schema.data(), c->schema.size()));
            valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
            valijson::adapters::BoostJsonAdapter adapter(doc);
            parser.populateSchema(adapter, *schema);
            out.push_back({c, std::move(schema)});
        }
        return out;
    }();
    for (const auto& entry : cache)
        if (entry.contract->version == contract.version) return *entry.schema;
    throw std::logic_error("cordon: contract " + std::string(contract.version) + " has no embedded schema");
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

/// Schema violations of a config against its contract's embedded schema.
inline Violations schema_violations(const boost::json::value& document, const Contract& contract) {
    return schema_violations(document, compiled_schema(contract));
}

}  // namespace cordon::detail
