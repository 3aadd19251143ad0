// SPDX-License-Identifier: MIT
// The Phase 2 seam is pinned: the session backend has a name but no runner, and identity binding
// on the session path says which platform surfaces are missing.
#include "cordon/session.hpp"

#include <doctest/doctest.h>

#include "cordon/backend_host.hpp"

using namespace cordon;

TEST_SUITE("session") {
    TEST_CASE("identity binding on the session path is unavailable and names the missing surfaces") {
        auto s = session_identity_binding("agent-7");
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::unavailable);
        CHECK(s.error().where == "session");
        CHECK(s.error().message.find("agent-7") != std::string::npos);
        CHECK(s.error().message.find("isolation_session") != std::string::npos);
        CHECK(s.error().message.find("identity") != std::string::npos);
    }

    TEST_CASE("Backend::session exists by name but no runner is registered for it") {
        CHECK(backend_from_string("session") == Backend::session);
        CHECK(to_string(Backend::session) == "session");
        auto loaded = BackendRegistry().load(Backend::session, "/nonexistent");
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == ErrorCode::unavailable);
        CHECK_FALSE(capabilities_for(Backend::session, "0.9.0").has_value());
    }
}
