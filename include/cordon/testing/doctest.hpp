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

    /// Linux: bubblewrap, POSIX paths (the default).
    static TestTarget linux_bubblewrap() { return {}; }
    /// Windows: ProcessContainer (wxc-exec.exe), Windows paths (`C:\work`), on any host.
    static TestTarget windows() { return {Backend::processcontainer, std::string(default_sdk_version), PathStyle::windows}; }
    /// macOS: Seatbelt, POSIX paths.
    static TestTarget macos() { return {Backend::seatbelt, std::string(default_sdk_version), PathStyle::posix}; }
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

/// The report's decisions that are not "kept", one per line: `    FIELD "REQUESTED": VERDICT (REASON)`.
inline std::string reasons(const Result<ClampOutcome>& outcome) {
    if (!outcome) return "    (none: the clamp was refused)\n";
    std::string out;
    for (const auto& d : outcome->report.decisions) {
        if (d.verdict == Verdict::kept) continue;
        out += "    " + d.field + " \"" + d.requested + "\": " + std::string(to_string(d.verdict));
        out += d.reason.empty() ? "\n" : " (" + d.reason + ")\n";
    }
    return out.empty() ? "    (every requested item was kept)\n" : out;
}

namespace detail {

// What the macros' last arguments say: the expectation, and optionally the target.
struct ConfigExpectation {
    std::string_view config;
    TestTarget target;
};
inline ConfigExpectation expect_config(std::string_view config, TestTarget target = {}) { return {config, std::move(target)}; }

struct RefusalExpectation {
    ErrorCode code;
    TestTarget target;
};
inline RefusalExpectation expect_refusal(ErrorCode code, TestTarget target = {}) { return {code, std::move(target)}; }

inline std::string target_text(const TestTarget& t) {
    return std::string(to_string(t.backend)) + " " + t.sdk_version + ", " + std::string(to_string(t.style)) + " paths";
}

// The failure message of CORDON_CHECK_CLAMPS_TO: both configs and why items were not kept.
inline std::string config_text(const Policy& p) {
    auto json = to_mxc_json(p, emit_contract(p));
    return json ? *json : "(unemittable: " + json.error().to_string() + ")";
}

inline std::string clamps_to_message(const Result<Policy>& expected, const Result<ClampOutcome>& outcome,
                                     const TestTarget& target) {
    std::string expected_text =
        expected ? config_text(*expected) : "(invalid: " + expected.error().to_string() + ")";
    std::string actual_text = outcome ? config_text(mxc_part(outcome->policy)) : "refused: " + describe(outcome);
    return "the request does not clamp to the expected config (" + target_text(target) + ")\n  expected: " +
           expected_text + "\n  actual:   " + actual_text +
           "\n  reasons (what the report did not keep as asked):\n" + reasons(outcome);
}

// The failure message of CORDON_CHECK_CLAMP_REFUSED.
inline std::string refused_message(const Result<ClampOutcome>& outcome, ErrorCode expected, const TestTarget& target) {
    std::string got = outcome ? "not refused; clamped to " + describe(outcome) : describe(outcome);
    return "expected the clamp to be refused with " + std::string(to_string(expected)) + " (" + target_text(target) +
           ")\n  actual:   " + got + "\n  reasons (what the report did not keep as asked):\n" + reasons(outcome);
}

}  // namespace detail

}  // namespace cordon::testing

/// CORDON_CHECK_CLAMPS_TO(request, ceiling, expected [, target]): `request` clamped to `ceiling`
/// for `target` (a cordon::testing::TestTarget; default TestTarget::linux_bubblewrap(), e.g.
/// TestTarget::windows() for ProcessContainer and Windows paths) is exactly the MXC config
/// `expected` (compared as policies, so key order and spacing do not matter). On failure it prints
/// the expected and the actual config and the report's reasons. Each argument is evaluated once.
#define CORDON_CHECK_CLAMPS_TO(request, ceiling, ...)                                                          \
    do {                                                                                                       \
        const auto cordon_expect_ = ::cordon::testing::detail::expect_config(__VA_ARGS__);                    \
        const auto cordon_outcome_ = ::cordon::testing::clamp_json((request), (ceiling), cordon_expect_.target); \
        const auto cordon_expected_ = ::cordon::from_mxc_json(cordon_expect_.config);                         \
        DOCTEST_REQUIRE_MESSAGE(cordon_expected_.has_value(), "expected config is invalid: ",                 \
                                cordon_expected_ ? std::string() : cordon_expected_.error().to_string());     \
        const bool cordon_clamps_as_expected_ =                                                                \
            cordon_outcome_.has_value() &&                                                                     \
            ::cordon::testing::mxc_part(cordon_outcome_->policy) == *cordon_expected_;                        \
        DOCTEST_CHECK_MESSAGE(cordon_clamps_as_expected_,                                                      \
                              ::cordon::testing::detail::clamps_to_message(cordon_expected_, cordon_outcome_,  \
                                                                           cordon_expect_.target));           \
    } while (false)

/// CORDON_CHECK_CLAMP_REFUSED(request, ceiling, expected_code [, target]): clamping is refused with
/// ErrorCode `expected_code` (e.g. backend_unsupported) for `target`. On failure it prints what the
/// clamp did instead: its config and reasons, or the other error.
#define CORDON_CHECK_CLAMP_REFUSED(request, ceiling, ...)                                                      \
    do {                                                                                                       \
        const auto cordon_expect_ = ::cordon::testing::detail::expect_refusal(__VA_ARGS__);                   \
        const auto cordon_outcome_ = ::cordon::testing::clamp_json((request), (ceiling), cordon_expect_.target); \
        const bool cordon_refused_as_expected_ =                                                               \
            !cordon_outcome_.has_value() && cordon_outcome_.error().code == cordon_expect_.code;              \
        DOCTEST_CHECK_MESSAGE(cordon_refused_as_expected_,                                                     \
                              ::cordon::testing::detail::refused_message(cordon_outcome_, cordon_expect_.code, \
                                                                         cordon_expect_.target));             \
    } while (false)
