// SPDX-License-Identifier: MIT
// The embedded schemas are the independent gate: they must parse, be closed, and agree with the decoder.
#include "cordon/detail/schema_check.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include <boost/json/parse.hpp>

#include "cordon/mxc_json.hpp"
#include "support/closed_schema.hpp"

using namespace cordon;
using cordon::test::require_closed;

TEST_SUITE("schema") {
    TEST_CASE("every embedded schema parses, names its contract and is closed at every level") {
        for (const Contract* c : known_contracts) {
            CAPTURE(c->version);
            auto doc = boost::json::parse(boost::json::string_view(c->schema.data(), c->schema.size()));
            CHECK(doc.at("$id").as_string() == "urn:cordon:mxc-config:" + std::string(c->version));
            CHECK(doc.at("properties").at("version").at("const").as_string() == c->version);
            require_closed(doc, "");
        }
        CHECK(detail::compile_embedded_schemas());
    }

    TEST_CASE("schema alone rejects unknown fields, wrong types and out-of-range values") {
        auto check = [](const char* text) {
            return detail::schema_violations(boost::json::parse(text), contract_0_6_0_alpha);
        };
        CHECK(check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})").empty());
        auto v = check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"keychainAccess":true})");
        REQUIRE(v.size() == 1);
        CHECK(v[0].pointer == "/keychainAccess");
        v = check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x","timeout":1000.0}})");
        REQUIRE(v.size() == 1);
        CHECK(v[0].pointer == "/process/timeout");
        v = check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x","timeout":4294967296}})");
        REQUIRE(v.size() == 1);
        CHECK(v[0].pointer == "/process/timeout");
        v = check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"filesystem":{"readonlyPaths":["a",""]}})");
        REQUIRE(v.size() == 1);
        CHECK(v[0].pointer == "/filesystem/readonlyPaths/1");
        v = check(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"network":{"proxy":{"localhost":1,"url":"u"}}})");
        REQUIRE_FALSE(v.empty());
        CHECK(v[0].pointer == "/network/proxy");
    }
}
