// SPDX-License-Identifier: MIT
// cordon: helpers for downstream projects that unit-test their own ceilings with doctest, without
// running any executor. Include after your own <doctest/doctest.h> configuration; cordon never
// defines DOCTEST_CONFIG_* and never ships a doctest copy.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::testing {

/// What a test clamps against: lexical paths (no disk access), so results are the same on every
/// machine; Windows-style ceilings work on Linux too.
struct TestTarget {
    Backend backend = Backend::bubblewrap;
    std::string sdk_version = std::string(default_sdk_version);
    PathStyle style = PathStyle::posix;
};

/// Clamps an MXC request (JSON text) to a ceiling (JSON text, docs/ceiling.md) for `target`.
/// Errors: as parse_ceiling, from_mxc_json and clamp.
inline Result<ClampOutcome> clamp_json(std::string_view request_json, std::string_view ceiling_json,
                                       const TestTarget& target = {}) {
    CeilingOptions ceiling_options;
    ceiling_options.style = target.style;
    ceiling_options.canonicalize = false;
    auto ceiling = parse_ceiling(ceiling_json, ceiling_options);
    if (!ceiling) return ceiling.error();
    auto request = from_mxc_json(request_json);
    if (!request) return request.error();
    auto caps = capabilities_for(target.backend, target.sdk_version);
    if (!caps)
        return make_error(ErrorCode::backend_unsupported, "no capability row for " +
                                                              std::string(to_string(target.backend)) + " " +
                                                              target.sdk_version);
    ClampOptions options;
    options.style = target.style;
    options.canonicalize = false;
    return clamp(*request, *ceiling, *caps, options);
}

/// The clamped config as MXC JSON text, or the error as text (for failure messages).
inline std::string describe(const Result<ClampOutcome>& outcome) {
    if (!outcome) return std::string(to_string(outcome.error().code)) + ": " + outcome.error().to_string();
    auto json = to_mxc_json(outcome->policy, emit_contract(outcome->policy));
    return json ? *json : "(unemittable) " + json.error().to_string();
}

/// The part of a policy an MXC config carries (cordon's own run controls, the sandbox's user and
/// its limits, are not part of any config).
inline Policy mxc_part(Policy p) {
    p.run_as.reset();
    p.limits = {};
    return p;
}

}  // namespace cordon::testing

/// Checks that `request` clamped to `ceiling` is exactly the MXC config `expected` (compared as
/// policies, so key order and spacing do not matter). Each argument is evaluated once.
#define CORDON_CHECK_CLAMPS_TO(request, ceiling, expected)                                                  \
    do {                                                                                                    \
        auto cordon_outcome_ = ::cordon::testing::clamp_json((request), (ceiling));                          \
        auto cordon_expected_ = ::cordon::from_mxc_json(expected);                                          \
        DOCTEST_INFO("clamped:  ", ::cordon::testing::describe(cordon_outcome_));                          \
        DOCTEST_REQUIRE_MESSAGE(cordon_expected_.has_value(), "expected config is invalid: ",              \
                                cordon_expected_ ? std::string() : cordon_expected_.error().to_string());  \
        DOCTEST_CHECK(cordon_outcome_.has_value());                                                         \
        if (cordon_outcome_) DOCTEST_CHECK(::cordon::testing::mxc_part(cordon_outcome_->policy) == *cordon_expected_); \
    } while (false)

/// Checks that clamping `request` to `ceiling` is refused with ErrorCode `expected_code` (e.g. backend_unsupported).
#define CORDON_CHECK_CLAMP_REFUSED(request, ceiling, expected_code)                                                  \
    do {                                                                                                    \
        auto cordon_outcome_ = ::cordon::testing::clamp_json((request), (ceiling));                          \
        DOCTEST_INFO("clamped:  ", ::cordon::testing::describe(cordon_outcome_));                          \
        DOCTEST_CHECK_FALSE(cordon_outcome_.has_value());                                                   \
        if (!cordon_outcome_) DOCTEST_CHECK(cordon_outcome_.error().code == (expected_code));                        \
    } while (false)
