// SPDX-License-Identifier: MIT
#include "cordon/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace cordon;

TEST_SUITE("error") {
    TEST_CASE("Result holds a value or an error, never both") {
        Result<int> ok = 7;
        CHECK(ok.has_value());
        CHECK(*ok == 7);
        CHECK_THROWS_AS((void)ok.error(), std::logic_error);

        Result<int> bad = make_error(ErrorCode::invalid_policy, "timeout is negative", "/process/timeout");
        CHECK_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::invalid_policy);
        CHECK(bad.error().where == "/process/timeout");
        CHECK(bad.error().to_string() == "/process/timeout: timeout is negative");
        CHECK_THROWS_AS((void)bad.value(), BadResultAccess);
        try {
            (void)bad.value();
        } catch (const BadResultAccess& e) {
            CHECK(std::string(e.what()) == "invalid-policy: /process/timeout: timeout is negative");
            CHECK(e.error().code == ErrorCode::invalid_policy);
        }
    }

    TEST_CASE("Status reports success and failure") {
        Status ok;
        CHECK(ok.has_value());
        CHECK_NOTHROW(ok.value());
        Status bad = make_error(ErrorCode::unavailable, "no executor");
        CHECK_FALSE(bad.has_value());
        CHECK_THROWS_AS(bad.value(), BadResultAccess);
        CHECK(bad.error().to_string() == "no executor");
    }

    TEST_CASE("error codes have stable numbers and names") {
        CHECK(static_cast<int>(ErrorCode::invalid_policy) == 1);
        CHECK(static_cast<int>(ErrorCode::unavailable) == 2);
        CHECK(static_cast<int>(ErrorCode::untrusted_executor) == 3);
        CHECK(static_cast<int>(ErrorCode::backend_unsupported) == 4);
        CHECK(static_cast<int>(ErrorCode::execution_failed) == 5);
        CHECK(static_cast<int>(ErrorCode::timeout) == 6);
        CHECK(static_cast<int>(ErrorCode::io_error) == 7);
        CHECK(static_cast<int>(ErrorCode::internal) == 8);
        CHECK(to_string(ErrorCode::untrusted_executor) == "untrusted-executor");
        CHECK(to_string(ErrorCode::backend_unsupported) == "backend-unsupported");
    }
}
