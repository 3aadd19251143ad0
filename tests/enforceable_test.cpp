// SPDX-License-Identifier: MIT
// enforceable(policy, capabilities): each primitive a policy relies on is refused, at its pointer,
// by a capability row without it and passed by one with it; clamp refuses with the same error.
#include "cordon/enforceable.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "support/clamp_helpers.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {

struct Primitive {
    const char* name;                          // as the message says it
    const char* where;                         // the pointer of the refusal
    std::function<void(Policy&)> needs;        // makes the policy rely on it
    std::function<void(Capabilities&)> lacks;  // clears the row's flag
};

const Primitive primitives[] = {
    {"host lists", "/network", [](Policy& p) { p.network.emplace().legacy.allowed_hosts = {"example.com"}; },
     [](Capabilities& c) { c.host_filtering = false; }},
    {"egress rules", "/network/egress",
     [](Policy& p) { p.network.emplace().egress.allow.push_back(EgressRule{std::vector<Peer>{Peer{*Cidr::parse("10.1.0.0/16"), {}}}, std::nullopt}); },
     [](Capabilities& c) { c.egress_rules = false; }},
    {"ingress \"allow\"", "/network/ingress/default",
     [](Policy& p) { p.network.emplace().ingress.default_action = NetworkAction::allow; },
     [](Capabilities& c) { c.ingress = false; }},
    {"hostLoopback \"allow\"", "/network/ingress/hostLoopback",
     [](Policy& p) { p.network.emplace().ingress.host_loopback = NetworkAction::allow; },
     [](Capabilities& c) { c.ingress = false; }},
    {"deniedPaths", "/filesystem/deniedPaths", [](Policy& p) { p.filesystem.denied = {"/srv/secret"}; },
     [](Capabilities& c) { c.denied_paths = false; }},
};

Capabilities enforcing_everything() {
    Capabilities c = caps_of(Backend::bubblewrap, "1.0.1");
    c.host_filtering = c.egress_rules = c.ingress = c.denied_paths = true;
    return c;
}

}  // namespace

TEST_SUITE("enforceable") {
    TEST_CASE("each primitive: refused at its pointer by a row without it, passed by a row with it") {
        for (const Primitive& prim : primitives) {
            CAPTURE(prim.name);
            Policy p;
            p.process.command_line = "x";
            prim.needs(p);
            Capabilities with = enforcing_everything();
            CHECK(enforceable(p, with).has_value());
            Capabilities without = with;
            prim.lacks(without);
            auto refused = enforceable(p, without);
            REQUIRE_FALSE(refused.has_value());
            CHECK(refused.error().code == ErrorCode::backend_unsupported);
            CHECK(refused.error().where == prim.where);
            CHECK(refused.error().message.find(std::string("does not enforce ") + prim.name) != std::string::npos);
            CHECK(refused.error().message.rfind("backend bubblewrap (SDK 1.0.1, contract 1.0.0)", 0) == 0);
        }
    }

    TEST_CASE("a policy relying on nothing passes a row that enforces nothing") {
        Policy p;
        p.process.command_line = "x";
        p.network.emplace();  // default deny, no rules, no ingress
        Capabilities none = enforcing_everything();
        none.host_filtering = none.egress_rules = none.ingress = none.denied_paths = false;
        CHECK(enforceable(p, none).has_value());
    }

    TEST_CASE("the contract named is the caller's, else the row's first") {
        Policy p;
        p.process.command_line = "x";
        p.filesystem.denied = {"/srv/secret"};
        Capabilities c = caps_of(Backend::bubblewrap, "1.0.1");
        c.denied_paths = false;
        CHECK(enforceable(p, c, "0.9.0-alpha").error().message.find("contract 0.9.0-alpha)") != std::string::npos);
        CHECK(enforceable(p, c).error().message.find("contract 1.0.0)") != std::string::npos);
    }

    TEST_CASE("clamp refuses with enforceable's own error, on the policy it would have produced") {
        Ceiling open = lexical_ceiling(PathStyle::posix, R"({"network":{"defaultPolicy":"allow"}})");
        Policy asked = request_of(
            R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"network":{"allowedHosts":["example.com"],"defaultPolicy":"block"}})");
        Capabilities caps = caps_of(Backend::bubblewrap, "1.0.1");
        REQUIRE_FALSE(caps.host_filtering);
        auto refused = clamp(asked, open, caps, lexical(PathStyle::posix));
        REQUIRE_FALSE(refused.has_value());
        Capabilities everything = enforcing_everything();
        everything.sdk_version = caps.sdk_version;
        auto granted = clamp(asked, open, everything, lexical(PathStyle::posix));
        REQUIRE(granted.has_value());
        auto direct = enforceable(granted->policy, caps);
        REQUIRE_FALSE(direct.has_value());
        CHECK(refused.error().code == direct.error().code);
        CHECK(refused.error().where == direct.error().where);
        CHECK(refused.error().message == direct.error().message);
    }
}
