// SPDX-License-Identifier: MIT
#include "cordon/detail/strict_json.hpp"

#include <boost/json/value.hpp>

#include <doctest/doctest.h>

#include <string>

using cordon::Violation;
using cordon::detail::parse_strict_json;

namespace {
Violation strict_parse_error(std::string_view text) {
    boost::json::value v;
    Violation violation;
    REQUIRE_FALSE(parse_strict_json(text, v, violation));
    return violation;
}
}  // namespace

TEST_SUITE("strict_json") {
    TEST_CASE("accepts strict JSON and builds the value") {
        boost::json::value v;
        Violation violation;
        REQUIRE(parse_strict_json(" {\"a\": [1, \"x\", {\"b\": null}], \"c\": 1.5}\n", v, violation));
        CHECK(v.at("a").at(1).as_string() == "x");
        CHECK(v.at("a").at(2).at("b").is_null());
        CHECK(v.at("c").as_double() == 1.5);
    }

    TEST_CASE("duplicate keys are rejected with the pointer of the duplicate") {
        CHECK(strict_parse_error(R"({"process": {}, "process": {}})").pointer == "/process");
        CHECK(strict_parse_error(R"({"process": {"commandLine": "a", "commandLine": "b"}})").pointer == "/process/commandLine");
        CHECK(strict_parse_error(R"({"a": [{"x": 1}, {"y": 1, "y": 2}]})").pointer == "/a/1/y");
        CHECK(strict_parse_error(R"({"a/b~": {"k": 1, "k": 2}})").pointer == "/a~1b~0/k");
        // the same key in sibling objects is fine
        boost::json::value v;
        Violation violation;
        CHECK(parse_strict_json(R"([{"k": 1}, {"k": 2}])", v, violation));
    }

    TEST_CASE("syntax errors name line and column") {
        auto v = strict_parse_error("{\n  \"a\": 1,\n}");
        CHECK(v.pointer.empty());
        CHECK(v.message.find("line 3 column 1") != std::string::npos);
        CHECK(strict_parse_error("{} x").message.find("line 1 column 4") != std::string::npos);
        CHECK(strict_parse_error("").message.find("empty") != std::string::npos);
        CHECK(strict_parse_error("  \n").message.find("empty") != std::string::npos);
        CHECK(strict_parse_error("\xEF\xBB\xBF{}").message.find("byte order mark") != std::string::npos);
        strict_parse_error("{\"a\": 1} // comment");
        strict_parse_error("{\"a\": \"\xff\"}");  // invalid UTF-8
        strict_parse_error("{\"a\": 01}");
        strict_parse_error("[1,]");
    }

    TEST_CASE("depth and size are bounded") {
        std::string deep(200, '[');
        deep += std::string(200, ']');
        CHECK(strict_parse_error(deep).message.find("invalid JSON") != std::string::npos);
        std::string huge(cordon::detail::max_config_bytes + 1, ' ');
        CHECK(strict_parse_error(huge).message.find("limit") != std::string::npos);
    }
}
