// SPDX-License-Identifier: MIT
#include "cordon/mxc_json.hpp"

#include <doctest/doctest.h>

#include <string>

#include <boost/json/parse.hpp>

using namespace cordon;

namespace {

// Every field of the 0.6.0-alpha contract set (bubblewrap flavour, so sections must be lxc-free).
Policy full_windows_policy() {
    Policy p;
    p.container_id = "cordon-test-1";
    p.containment = Containment::processcontainer;
    p.process.command_line = "cmd /c echo hi";
    p.process.cwd = "C:\\work";
    p.process.env = {EnvVar{"LANG", "C.UTF-8"}, EnvVar{"EMPTY", ""}, EnvVar{"A", "b=c"}};
    p.process.timeout = Timeout::ms(30000);
    p.filesystem.readwrite = {"C:\\work"};
    p.filesystem.readonly = {"C:\\data", "D:\\tools\\bin"};
    p.filesystem.denied = {"C:\\work\\.git"};
    p.lifecycle = LifecycleSpec{true, false};
    p.fallback = FallbackSpec{false};
    p.network = NetworkSpec{};
    p.network->egress.default_action = EgressDefault::allow;
    p.network->legacy.enforcement_mode = EnforcementMode::capabilities;
    p.network->legacy.allowed_hosts = {"example.com"};
    p.network->legacy.blocked_hosts = {"203.0.113.7"};
    p.network->legacy.allow_local_network = false;
    p.network->proxy = Proxy{ProxyUrl{"http://127.0.0.1:3128"}};
    p.ui = UiSpec{true, ClipboardAccess::read, false};
    p.process_container = ProcessContainerSpec{};
    p.process_container->least_privilege = true;
    p.process_container->capabilities = {"internetClient"};
    p.process_container->ui = ProcessContainerUi{UiIsolation::desktop, false, "none", true};
    return p;
}

Error parse_error(const std::string& text) {
    auto r = from_mxc_json(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::invalid_policy);
    return r.error();
}

std::string with_process(const std::string& process_body, const std::string& rest = "") {
    return R"({"version": "0.6.0-alpha", "process": {)" + process_body + "}" + rest + "}";
}

}  // namespace

TEST_SUITE("mxc_json") {
    TEST_CASE("a policy with every field set round-trips and passes the pinned schema") {
        Policy p = full_windows_policy();
        auto json = to_mxc_json(p, contract_0_6_0_alpha);  // host lists exist only in legacy contracts
        REQUIRE_MESSAGE(json.has_value(), json.error().to_string());
        CHECK(validate(*json).empty());
        auto back = from_mxc_json(*json);
        REQUIRE_MESSAGE(back.has_value(), back.error().to_string());
        CHECK(*back == p);
        auto doc = boost::json::parse(*json);
        CHECK(doc.at("version") == "0.6.0-alpha");
        CHECK(doc.at("process").at("timeout") == 30000);
        CHECK(doc.at("process").at("env").at(2) == "A=b=c");
        CHECK(doc.at("processContainer").at("ui").at("isolation") == "desktop");
    }

    TEST_CASE("lxc and seatbelt sections round-trip under the contracts that have them") {
        Policy lxc;
        lxc.containment = Containment::lxc;
        lxc.process.command_line = "true";
        lxc.lxc = LxcSpec{"alpine", "3.19"};
        lxc.network = NetworkSpec{};
        lxc.network->egress.default_action = EgressDefault::allow;
        lxc.network->proxy = Proxy{ProxyUrl{"http://10.0.0.1:8080"}};
        auto json = to_mxc_json(lxc, contract_0_6_0_alpha);  // a legacy url proxy under "allow"
        REQUIRE_MESSAGE(json.has_value(), json.error().to_string());
        CHECK(*from_mxc_json(*json) == lxc);

        Policy mac;
        mac.containment = Containment::seatbelt;
        mac.process.command_line = "/bin/echo hi";
        mac.seatbelt = SeatbeltSpec{std::nullopt, false, LaunchMethod::exec, true, {"com.apple.x"}};
        auto v07 = to_mxc_json(mac, contract_0_7_0_alpha);
        REQUIRE_MESSAGE(v07.has_value(), v07.error().to_string());
        CHECK(*from_mxc_json(*v07) == mac);
        CHECK(boost::json::parse(*v07).at("version") == "0.7.0-alpha");
    }

    TEST_CASE("emission refuses what the contract lacks instead of emitting it") {
        Policy mac;
        mac.containment = Containment::seatbelt;
        mac.process.command_line = "true";
        auto r = to_mxc_json(mac, contract_0_6_0_alpha);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().where == "/containment");
        mac.containment = Containment::process;
        mac.seatbelt = SeatbeltSpec{};
        r = to_mxc_json(mac, contract_0_6_0_alpha);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().where == "/seatbelt");

        Policy empty;  // empty command line
        r = to_mxc_json(empty);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().where == "/process/commandLine");
    }

    TEST_CASE("a minimal policy emits only version and process (and, directional, an empty env)") {
        Policy p;
        p.process.command_line = "/bin/true";
        auto json = to_mxc_json(p, contract_0_6_0_alpha);
        REQUIRE(json.has_value());
        CHECK(*json == R"({"version":"0.6.0-alpha","process":{"commandLine":"/bin/true"}})");
        // An absent env would be the backend's default PATH and TERM under 0.9+: cordon's empty one is explicit.
        json = to_mxc_json(p);
        REQUIRE(json.has_value());
        CHECK(*json == R"({"version":"1.0.0","process":{"commandLine":"/bin/true","env":[]}})");
    }

    TEST_CASE("legacy aliases are read as their modern names") {
        auto p = from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},
            "containment":"appcontainer","appContainer":{"capabilities":["internetClient"]}})");
        REQUIRE(p.has_value());
        CHECK(p->containment == Containment::processcontainer);
        REQUIRE(p->process_container.has_value());
        CHECK(p->process_container->capabilities == std::vector<std::string>{"internetClient"});
        CHECK(to_mxc_json(*p, contract_0_6_0_alpha)->find("\"processContainer\"") != std::string::npos);
    }

    TEST_CASE("env entries keep order, split at the first '=', and keep entries without '='") {
        auto p = from_mxc_json(with_process(R"("commandLine":"x","env":["B=2","A==x","NOEQ","E="])"));
        REQUIRE(p.has_value());
        REQUIRE(p->process.env.size() == 4);
        CHECK(p->process.env[0] == EnvVar{"B", "2"});
        CHECK(p->process.env[1] == EnvVar{"A", "=x"});
        CHECK(p->process.env[2] == EnvVar{"NOEQ", std::nullopt});
        CHECK(p->process.env[3] == EnvVar{"E", ""});
        CHECK(*from_mxc_json(*to_mxc_json(*p)) == *p);
    }

    TEST_CASE("timeouts: u32 milliseconds, 0 means none") {
        CHECK(from_mxc_json(with_process(R"("commandLine":"x","timeout":0)"))->process.timeout.is_none());
        CHECK(from_mxc_json(with_process(R"("commandLine":"x","timeout":4294967295)"))->process.timeout.wire_value() ==
              4294967295u);
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":-1)")).where == "/process/timeout");
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":4294967296)")).where == "/process/timeout");
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":1.5)")).where == "/process/timeout");
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":1000.0)")).where == "/process/timeout");
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":"30000")")).where == "/process/timeout");
        CHECK(parse_error(with_process(R"("commandLine":"x","timeout":18446744073709551615)")).where ==
              "/process/timeout");
        auto e = parse_error(with_process(R"("commandLine":"x","timeout":-1)"));
        CHECK(e.message.find("0 to 4294967295") != std::string::npos);
    }

    TEST_CASE("errors name the pointer and what was expected") {
        auto e = parse_error(with_process(R"("commandLine":"x","args":[]})", ""));
        (void)e;
        e = parse_error(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"policy":{}})");
        CHECK(e.where == "/policy");
        CHECK(e.message.find("expected one of `version`") != std::string::npos);
        e = parse_error(with_process(R"("commandLine":"")"));
        CHECK(e.where == "/process/commandLine");
        e = parse_error(R"({"version":"0.6.0-alpha"})");
        CHECK(e.where == "");
        CHECK(e.message.find("`process`") != std::string::npos);
        e = parse_error(with_process(R"("commandLine":"x")", R"(,"network":{"defaultPolicy":"deny"})"));
        CHECK(e.where == "/network/defaultPolicy");
        CHECK(e.message.find("\"allow\", \"block\"") != std::string::npos);
        e = parse_error(with_process(R"("commandLine":"x")", R"(,"lifecycle":{"destroyOnExit":"true"})"));
        CHECK(e.where == "/lifecycle/destroyOnExit");
        CHECK(e.message == "expected a boolean, got a string");
        e = parse_error(with_process(R"("commandLine":"x","cwd":null)"));
        CHECK(e.where == "/process/cwd");
        CHECK(e.message.find("null is never accepted") != std::string::npos);
        e = parse_error(with_process(R"("commandLine":"x")", R"(,"filesystem":{"readonlyPaths":["/a","  "]})"));
        CHECK(e.where == "/filesystem/readonlyPaths/1");
        e = parse_error(with_process(R"("commandLine":"x")", R"(,"filesystem":{"readonlyPaths":[null, "/a\"b"]})"));
        CHECK(e.where == "/filesystem/readonlyPaths/0");
        CHECK(e.message.find("and 1 more") != std::string::npos);
    }

    TEST_CASE("versions: exact, required, and only contracts cordon models") {
        CHECK(parse_error(R"({"process":{"commandLine":"x"}})").message.find("`version`") != std::string::npos);
        CHECK(parse_error(R"({"version":"0.6.0","process":{"commandLine":"x"}})").where == "/version");
        CHECK(parse_error(R"({"version":0.6,"process":{"commandLine":"x"}})").where == "/version");
        CHECK(parse_error(R"({"version":"0.10.0-alpha","process":{"commandLine":"x"}})").where == "/version");
        CHECK(parse_error(R"({"version":"1.1.0-alpha","process":{"commandLine":"x"}})").message.find("development") !=
              std::string::npos);
        CHECK(from_mxc_json(R"({"version":"0.9.0-alpha","process":{"commandLine":"x"}})").has_value());
        CHECK(from_mxc_json(R"({"version":"1.0.0","process":{"commandLine":"x"}})").has_value());
        // As strictly as one executor: lxc-exec 0.9.0 does not know 1.0.0, 1.0.1 no longer knows 0.6.0-alpha.
        CHECK_FALSE(validate(R"({"version":"1.0.0","process":{"commandLine":"x"}})", CheckOptions{"0.9.0"}).empty());
        CHECK_FALSE(validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})", CheckOptions{"1.0.1"}).empty());
        CHECK(from_mxc_json(R"({"version":"0.7.0-alpha","$schema":"x","_comment":[1],"process":{"commandLine":"x"}})")
                  .has_value());
        CHECK(parse_error(R"({"version":"0.6.0-alpha","$schema":"x","process":{"commandLine":"x"}})").where == "/$schema");
    }

    TEST_CASE("directional contracts always carry env; an empty name or a NUL is never emitted") {
        Policy p;
        p.process.command_line = "true";
        for (const Contract* c : {&contract_0_9_0_alpha, &contract_1_0_0}) {
            CAPTURE(c->version);
            auto doc = boost::json::parse(to_mxc_json(p, *c).value());
            CHECK(doc.at("process").at("env").as_array().empty());  // absent would be PATH and TERM
            CHECK_FALSE(doc.at("process").as_object().contains("inheritDefaultEnv"));
        }
        p.process.inherit_default_env = true;
        CHECK(boost::json::parse(to_mxc_json(p).value()).at("process").at("inheritDefaultEnv") == true);
        auto legacy = to_mxc_json(p, contract_0_6_0_alpha);
        REQUIRE_FALSE(legacy.has_value());
        CHECK(legacy.error().where == "/process/inheritDefaultEnv");
        // Reading: an absent env is the default environment under 0.9+, the empty one before.
        CHECK(from_mxc_json(R"({"version":"1.0.0","process":{"commandLine":"x"}})")->process.inherit_default_env);
        CHECK(from_mxc_json(R"({"version":"1.0.0","process":{"commandLine":"x","env":[],"inheritDefaultEnv":true}})")
                  ->process.inherit_default_env);
        CHECK_FALSE(from_mxc_json(R"({"version":"1.0.0","process":{"commandLine":"x","env":[]}})")->process.inherit_default_env);
        CHECK_FALSE(from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})")->process.inherit_default_env);
        p.process.inherit_default_env = false;
        for (const EnvVar& bad : {EnvVar{"", "X"}, EnvVar{"A", std::string("x\0y", 3)}}) {
            p.process.env = {EnvVar{"OK", "1"}, bad};
            for (const Contract* c : {&contract_0_6_0_alpha, &contract_1_0_0}) {
                auto r = to_mxc_json(p, *c);
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code == ErrorCode::invalid_policy);
                CHECK(r.error().where == "/process/env/1");
            }
        }
        // lxc-exec 1.0.1 does not look into env items when it parses, so neither does a check of 1.0.0.
        CHECK(validate(R"({"version":"1.0.0","process":{"commandLine":"x","env":["A=\u0000","=X"]}})").empty());
    }

    TEST_CASE("NUL is refused in every string") {
        CHECK(parse_error(with_process(R"("commandLine":"a\u0000b")")).where == "/process/commandLine");
        CHECK(parse_error(with_process(R"("commandLine":"x","env":["A=\u0000"])")).where == "/process/env/0");
        CHECK(parse_error(with_process(R"("commandLine":"x")", R"(,"containerId":"a\u0000")")).where == "/containerId");
    }

    TEST_CASE("one backend section, matching the containment") {
        CHECK(parse_error(with_process(R"("commandLine":"x")", R"(,"containment":"bubblewrap","processContainer":{})"))
                  .where == "/processContainer");
        CHECK(parse_error(with_process(R"("commandLine":"x")", R"(,"lxc":{"distribution":"a","release":"b"})")).where ==
              "/lxc");
        CHECK(parse_error(with_process(R"("commandLine":"x")",
                                       R"(,"containment":"processcontainer","appContainer":{},"processContainer":{})"))
                  .where == "/appContainer");
        CHECK(parse_error(with_process(R"("commandLine":"x")", R"(,"containment":"lxc","lxc":{"distribution":"a"})"))
                  .where == "/lxc");
    }

    TEST_CASE("proxy shapes and cross-field rules") {
        auto net = [](const std::string& body, const std::string& containment = "bubblewrap") {
            return with_process(R"("commandLine":"x")",
                                R"(,"containment":")" + containment + R"(","network":)" + body);
        };
        CHECK(from_mxc_json(net(R"({"defaultPolicy":"allow","proxy":{"localhost":8080}})")).has_value());
        CHECK(from_mxc_json(net(R"({"defaultPolicy":"allow","proxy":{"url":"http://127.0.0.1:3128"}})")).has_value());
        CHECK(from_mxc_json(net(R"({"defaultPolicy":"allow","proxy":{"url":"http://[::1]:3128/x"}})")).has_value());
        CHECK(from_mxc_json(net(R"({"proxy":{"builtinTestServer":true}})")).has_value());
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{}})")).where == "/network/proxy");
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{"localhost":1,"url":"http://a:1"}})")).where ==
              "/network/proxy");
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{"localhost":0}})")).where == "/network/proxy/localhost");
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{"localhost":65536}})")).where ==
              "/network/proxy/localhost");
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{"builtinTestServer":false}})")).where ==
              "/network/proxy/builtinTestServer");
        auto e = parse_error(net(R"({"defaultPolicy":"allow","proxy":{"url":"http://proxy.example.com"}})"));
        CHECK(e.where == "/network/proxy/url");
        CHECK(e.message.find("port") != std::string::npos);
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","proxy":{"url":"not a url"}})")).where == "/network/proxy/url");
        // lxc-exec 0.9.0 refuses credentials in the URL (upstream sample lxc_network_proxy_credentials_rejected)
        for (const char* url : {"http://alice:hunter2@127.0.0.1:3128", "http://alice@127.0.0.1:3128"}) {
            auto cred = parse_error(net(std::string(R"({"defaultPolicy":"allow","proxy":{"url":")") + url + "\"}}"));
            CHECK(cred.where == "/network/proxy/url");
            CHECK(cred.message.find("must not carry credentials") != std::string::npos);
        }
        CHECK(from_mxc_json(net(R"({"defaultPolicy":"allow","proxy":{"url":"http://127.0.0.1:3128/a@b"}})")).has_value());
        CHECK(parse_error(net(R"({"proxy":{"localhost":8080}})")).where == "/network/proxy");  // absent = block
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","allowedHosts":["a"],"proxy":{"localhost":8080}})")).where ==
              "/network/proxy");
        CHECK(parse_error(net(R"({"defaultPolicy":"allow","enforcementMode":"both","proxy":{"localhost":8080}})"))
                  .where == "/network/proxy");
        // on processcontainer the bubblewrap rules do not apply
        CHECK(from_mxc_json(net(R"({"proxy":{"localhost":8080}})", "processcontainer")).has_value());
    }

    TEST_CASE("keychain access is never accepted") {
        auto text = R"({"version":"0.7.0-alpha","containment":"seatbelt","process":{"commandLine":"x"},
                        "seatbelt":{"keychainAccess":true}})";
        CHECK(parse_error(text).where == "/seatbelt/keychainAccess");
        auto ok = R"({"version":"0.7.0-alpha","containment":"seatbelt","process":{"commandLine":"x"},
                      "seatbelt":{"keychainAccess":false}})";
        CHECK(from_mxc_json(ok).has_value());
    }

    TEST_CASE("validate lists every violation") {
        auto v = validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"","timeout":-5,"zzz":1},
                              "network":{"defaultPolicy":"deny"},"extra":true})");
        std::vector<std::string> pointers;
        for (auto& x : v) pointers.push_back(x.pointer);
        CHECK(std::find(pointers.begin(), pointers.end(), "/process/commandLine") != pointers.end());
        CHECK(std::find(pointers.begin(), pointers.end(), "/process/timeout") != pointers.end());
        CHECK(std::find(pointers.begin(), pointers.end(), "/process/zzz") != pointers.end());
        CHECK(std::find(pointers.begin(), pointers.end(), "/network/defaultPolicy") != pointers.end());
        CHECK(std::find(pointers.begin(), pointers.end(), "/extra") != pointers.end());
        CHECK(v.size() == 5);
    }
}
