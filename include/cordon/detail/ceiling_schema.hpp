// SPDX-License-Identifier: MIT
// cordon: the ceiling's closed JSON Schema (schemas/ceiling.schema.json), compiled once for valijson.
#pragma once

#include <memory>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>

#include "cordon/detail/embedded_schemas.hpp"
#include "cordon/detail/schema_check.hpp"

namespace cordon::detail {

// Parsed on first use; a unit test compiles it, so a broken schema fails the build's tests.
inline const valijson::Schema& compiled_ceiling_schema() {
    static const std::unique_ptr<valijson::Schema> schema = [] {
        auto s = std::make_unique<valijson::Schema>();
        boost::json::value doc = boost::json::parse(boost::json::string_view(schema_ceiling.data(), schema_ceiling.size()));
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::BoostJsonAdapter adapter(doc);
        parser.populateSchema(adapter, *s);
        return s;
    }();
    return *schema;
}

}  // namespace cordon::detail
