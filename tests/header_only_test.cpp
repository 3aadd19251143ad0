// SPDX-License-Identifier: MIT
// Header-only mode (no CORDON_COMPILED_LIB, no libcordon): every function the compiled library
// defines works when the headers define it inline. One translation unit, so that the default
// build compiles valijson here and in src/schema_check.cpp only.
#if defined(_WIN32)
// An embedder's choice, which cordon leaves alone: <windows.h> without NOMINMAX, whose min and max
// macros then reach every cordon header (and dependency) below. mingw's libstdc++ defines NOMINMAX
// itself, and its own headers cannot stand the macros: so the standard headers come first, then
// the macros as MSVC's <windows.h> defines them.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>
#include <windows.h>
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#define CORDON_TEST_EMBEDDER_MINMAX 1
#endif

#include "cordon/backend_sdk.hpp"
#include "cordon/cordon.hpp"
#include "cordon/detail/executor_stderr.hpp"

#if !CORDON_HEADER_ONLY
#error "this test must be built in header-only mode (cordon_header_only_dep)"
#endif

#if defined(CORDON_TEST_EMBEDDER_MINMAX)
#if defined(WIN32_LEAN_AND_MEAN)
#error "a cordon header defined WIN32_LEAN_AND_MEAN: whether to is the embedder's choice"
#endif
#if !defined(min) || !defined(max)
#error "a cordon header took the embedder's min and max macros away"
#endif
#undef min  // the rest of this program is not an embedder's
#undef max
#endif

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <tuple>

#if !defined(_WIN32)
#include <unistd.h>
#endif

using namespace cordon;

TEST_SUITE("header-only") {
    TEST_CASE("strict parsing, the typed decoder and the schema gate run inline") {
        CHECK(validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})").empty());
        auto v = validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"process":{}})");
        REQUIRE(v.size() == 1);
        CHECK(v[0].message.find("duplicate key") != std::string::npos);
        v = validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x","timeout":1.5}})");
        REQUIRE_FALSE(v.empty());
        CHECK(v[0].pointer == "/process/timeout");
        CHECK(detail::compile_embedded_schemas());
        auto p = from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"make"},
                                   "filesystem":{"readonlyPaths":["/src"]}})");
        REQUIRE(p);
        auto json = to_mxc_json(*p, contract_0_6_0_alpha);
        REQUIRE(json);
        CHECK(*json == R"({"version":"0.6.0-alpha","process":{"commandLine":"make"},"filesystem":{"readonlyPaths":["/src"]}})");
        json = to_mxc_json(*p);  // 1.0.0, with the empty environment spelled out
        REQUIRE(json);
        CHECK(*json == R"({"version":"1.0.0","process":{"commandLine":"make","env":[]},"filesystem":{"readonlyPaths":["/src"]}})");
    }

    TEST_CASE("a ceiling file is parsed and a request clamped to it") {
        auto ceiling = parse_ceiling(R"({"readwritePaths":["/srv/agent"],"unknown":1})", {PathStyle::posix, false});
        REQUIRE_FALSE(ceiling);
        CHECK(ceiling.error().where == "/unknown");
        ceiling = parse_ceiling(R"({"readwritePaths":["/srv/agent"],"timeout":500})", {PathStyle::posix, false});
        REQUIRE(ceiling);
        Policy request;
        request.process.command_line = "true";
        request.filesystem.readwrite = {"/srv/agent/out", "/etc"};
        auto clamped = clamp(request, *ceiling, *capabilities_for(Backend::bubblewrap, "0.9.0"),
                             ClampOptions::of(PathStyle::posix, false));
        REQUIRE(clamped);
        CHECK(clamped->policy.filesystem.readwrite == std::vector<std::string>{"/srv/agent/out"});
        CHECK(clamped->policy.process.timeout == Timeout::ms(500));
    }

    TEST_CASE("hashing and the backend wire run inline") {
        auto d = detail::sha256_of_bytes("abc");
        REQUIRE(d);
        CHECK(detail::to_hex(*d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
#if !defined(_WIN32)  // executor_win_test hashes files through CNG handles
        char name[] = "/tmp/cordon-header-only-XXXXXX";
        int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::unlink(name);
        REQUIRE(::write(fd, "abc", 3) == 3);
        std::uint64_t hashed = 0;
        auto f = detail::sha256_of_file(fd, &hashed, name);
        ::close(fd);
        REQUIRE(f);
        CHECK(*f == *d);
        CHECK(hashed == 3);
#endif

        detail::RunRequest request;
        request.config_json = "{}";
        request.executor_path = "/x/lxc-exec";
        request.timeout_ms = 42;
        auto back = detail::decode_request(detail::encode_request(request));
        REQUIRE(back);
        CHECK(back->timeout_ms == 42);
        CHECK(back->executor_path == "/x/lxc-exec");
        RunResult result;
        result.out = std::string("\0\xff", 2);
        auto decoded = detail::decode_result(detail::encode_result({}, result));
        REQUIRE(decoded);
        CHECK(decoded->out == result.out);

        auto caps = *capabilities_for(Backend::bubblewrap, "0.9.0");
        auto again = detail::capabilities_from_json(detail::capabilities_to_json(caps));
        REQUIRE(again);
        CHECK(again->sdk_version == "0.9.0");
        CHECK(detail::trailing_error_object(R"(boom{"error":{"code":"x","message":"script timed out"}})") ==
              std::optional<std::string>("script timed out"));
    }
    // Here because detail::check_domains is the runner's (compiled into libcordon elsewhere).
    TEST_CASE("granted domains fail closed where the proxy is not the only way out, or is missing") {
        Policy p;
        p.process.command_line = "true";
        p.allowed_domains = {"pypi.org"};
        const Contract& v1 = *find_contract("1.0.0");
        for (auto [backend, sdk, contract] : {std::tuple{Backend::seatbelt, "1.0.1", "1.0.0"},
                                              std::tuple{Backend::processcontainer, "1.0.1", "1.0.0"},
                                              std::tuple{Backend::bubblewrap, "0.9.0", "0.6.0-alpha"}}) {
            auto caps = *capabilities_for(backend, sdk, contract);
            Status s = detail::check_domains(p, caps, *find_contract(contract));
            REQUIRE_FALSE(s.has_value());
            CHECK(s.error().code == ErrorCode::backend_unsupported);
            CHECK(s.error().where == "/network/allowedDomains");
        }
        auto bwrap = *capabilities_for(Backend::bubblewrap, "1.0.1", "1.0.0");
        Status none = detail::check_domains(p, bwrap, v1);  // no proxy set: the domains would be unreachable
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error().code == ErrorCode::invalid_policy);
        p.network = NetworkSpec{};
        p.network->proxy = ProxyUrl{"http://127.0.0.1:3128"};
        CHECK(detail::check_domains(p, bwrap, v1).has_value());
        p.network->egress.allow.push_back(EgressRule{});  // a proxy beside rules: lxc-exec refuses it
        Status rules = detail::check_domains(p, bwrap, v1);
        REQUIRE_FALSE(rules.has_value());
        CHECK(rules.error().where == "/network/egress");
        p.network->egress.allow.clear();
        p.network->egress.default_action = EgressDefault::allow;
        CHECK_FALSE(detail::check_domains(p, bwrap, v1).has_value());
    }
}
