// SPDX-License-Identifier: MIT
// Ceiling: the closed schema, file and environment sources, list separators per style, errors naming the input.
#include "cordon/ceiling_loader.hpp"
#include "cordon/detail/embedded_schemas.hpp"
#include "cordon/detail/schema_check.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

#include <boost/json/parse.hpp>

#include "support/clamp_helpers.hpp"
#include "support/closed_schema.hpp"
#include "support/temp_tree.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {

Error ceiling_error(const std::string& json, PathStyle style = PathStyle::posix) {
    auto c = parse_ceiling(json, CeilingOptions{style, false});
    REQUIRE_MESSAGE(!c.has_value(), json);
    return c.error();
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
}  // namespace

TEST_SUITE("ceiling") {
    TEST_CASE("the embedded ceiling schema parses, compiles and is closed at every level") {
        auto doc = boost::json::parse(
            boost::json::string_view(detail::schema_ceiling.data(), detail::schema_ceiling.size()));
        CHECK(doc.at("$id").as_string() == "urn:cordon:ceiling:1");
        require_closed(doc, "");
        CHECK(detail::compile_embedded_schemas());
        // requestMaySet's enum and RequestField's names are the same list.
        const auto& names = doc.at("properties").at("requestMaySet").at("items").at("enum").as_array();
        REQUIRE(names.size() == EnumNames<RequestField>::table.size());
        for (std::size_t i = 0; i < names.size(); ++i) CHECK(names[i].as_string() == EnumNames<RequestField>::table[i].name);
    }

    TEST_CASE("every field is optional: an empty ceiling grants nothing, sets no limit and blocks") {
        Ceiling c = lexical_ceiling(PathStyle::posix, "{}");
        CHECK(c.readonly.empty());
        CHECK(c.readwrite.empty());
        CHECK(c.timeout.is_none());
        CHECK(c.network == NetworkDefault::block);
        CHECK_FALSE(c.allows_network());
        CHECK(c.env_allow.empty());
        CHECK_FALSE(c.containment.has_value());
    }

    TEST_CASE("the example from the issue parses with MXC field names") {
        Ceiling c = lexical_ceiling(PathStyle::posix,
                                    R"({"containment": "process", "readonlyPaths": ["/usr"], "readwritePaths": ["/work"],
                                        "timeout": 30000, "network": {"defaultPolicy": "block", "allowedHosts": []},
                                        "env": {"allow": ["LANG", "LC_*"]}})");
        CHECK(c.containment == Containment::process);
        CHECK(c.readonly[0].str() == "/usr");
        CHECK(c.readwrite[0].str() == "/work");
        CHECK(c.timeout.wire_value() == 30000);
        CHECK(c.env_allow == std::vector<std::string>{"LANG", "LC_*"});
    }

    TEST_CASE("schema and decoder errors carry the JSON pointer of the problem") {
        CHECK(ceiling_error(R"({"readonlyPath":["/x"]})").where == "/readonlyPath");  // typo: unknown field
        CHECK(ceiling_error(R"({"readonlyPaths":"/x"})").where == "/readonlyPaths");
        CHECK(ceiling_error(R"({"readonlyPaths":[""]})").where == "/readonlyPaths/0");
        CHECK(ceiling_error(R"({"timeout":-1})").where == "/timeout");
        CHECK(ceiling_error(R"({"timeout":4294967296})").where == "/timeout");
        CHECK(ceiling_error(R"({"network":{"defaultPolicy":"deny"}})").where == "/network/defaultPolicy");
        CHECK(ceiling_error(R"({"network":{"blockedHosts":["x"]}})").where == "/network/blockedHosts");
        CHECK(ceiling_error(R"({"env":{"allow":[1]}})").where == "/env/allow/0");
        CHECK(ceiling_error(R"({"env":{"deny":[]}})").where == "/env/deny");
        CHECK(ceiling_error(R"({"requestMaySet":["keychainAccess"]})").where == "/requestMaySet/0");
        CHECK(ceiling_error(R"({"processContainer":{}})").where == "/processContainer");  // needs its containment
        CHECK(ceiling_error(R"({"containment":"bubblewrap","network":{"proxy":{"url":"http://p:1"}}})").where ==
              "/network/proxy");
        CHECK(ceiling_error(R"({"a":1,"a":2})").where == "/a");  // duplicate keys
        CHECK(ceiling_error("[]").code == ErrorCode::invalid_policy);
        CHECK(ceiling_error("{").code == ErrorCode::invalid_policy);
        Error e = ceiling_error(R"({"readwritePaths":["/ok","relative"]})");
        CHECK(e.where == "/readwritePaths/1");
        CHECK(e.message.find("\"relative\"") != std::string::npos);
        e = ceiling_error(R"({"readonlyPaths":["C:\\x:stream"]})", PathStyle::windows);
        CHECK(e.where == "/readonlyPaths/0");
        CHECK(e.message.find("data stream") != std::string::npos);
    }

    TEST_CASE("the format version: absent or 1 is read; any other is refused for its version, before its fields") {
        CHECK(lexical_ceiling(PathStyle::posix, R"({"version": 1, "readonlyPaths": ["/usr"]})").readonly.size() == 1);
        // A newer file is refused for its version, not for the field this cordon does not know.
        Error e = ceiling_error(R"({"version": 2, "futureField": true})");
        CHECK(e.where == "/version");
        CHECK(e.message.find("format 1, not 2") != std::string::npos);
        CHECK(e.message.find("newer cordon") != std::string::npos);
        // An MXC config handed over as a ceiling says so.
        e = ceiling_error(R"({"version": "0.7.0-alpha", "process": {"commandLine": "x"}})");
        CHECK(e.where == "/version");
        CHECK(e.message.find("not an MXC config") != std::string::npos);
        for (const char* bad : {R"({"version": 0})", R"({"version": 1.5})", R"({"version": null})", R"({"version": true})"})
            CHECK_MESSAGE(ceiling_error(bad).where == "/version", bad);
    }

    TEST_CASE("the ceiling-only fields are decoded into the ceiling's own FixedFields, with the executors' rules") {
        Ceiling pc = lexical_ceiling(PathStyle::posix, R"({"containment": "processcontainer", "containerId": "c1",
            "lifecycle": {"destroyOnExit": true}, "fallback": {"allowDaclMutation": false}, "ui": {"disable": true},
            "processContainer": {"leastPrivilege": true, "capabilities": ["internetClient"]},
            "network": {"defaultPolicy": "allow", "enforcementMode": "firewall", "allowLocalNetwork": false,
                        "proxy": {"localhost": 3128}}})");
        CHECK(pc.containment == Containment::processcontainer);
        CHECK(pc.fixed.container_id == std::optional<std::string>("c1"));
        REQUIRE(pc.fixed.lifecycle);
        CHECK(pc.fixed.lifecycle->destroy_on_exit == std::optional<bool>(true));
        REQUIRE(pc.fixed.fallback);
        CHECK(pc.fixed.fallback->allow_dacl_mutation == std::optional<bool>(false));
        REQUIRE(pc.fixed.ui);
        CHECK(pc.fixed.ui->disable == std::optional<bool>(true));
        REQUIRE(pc.fixed.process_container);
        CHECK(pc.fixed.process_container->least_privilege == std::optional<bool>(true));
        CHECK(pc.fixed.process_container->capabilities == std::vector<std::string>{"internetClient"});
        CHECK(pc.fixed.enforcement_mode == EnforcementMode::firewall);
        CHECK(pc.fixed.allow_local_network == std::optional<bool>(false));
        REQUIRE(pc.fixed.proxy);
        CHECK(std::get<ProxyLocalhost>(*pc.fixed.proxy).port == 3128);
        CHECK(pc.network == NetworkDefault::allow);
        CHECK_FALSE(pc.fixed.seatbelt);
        CHECK_FALSE(pc.fixed.lxc);

        Ceiling lxc = lexical_ceiling(PathStyle::posix,
                                      R"({"containment": "lxc", "lxc": {"distribution": "debian", "release": "12"}})");
        REQUIRE(lxc.fixed.lxc);
        CHECK(lxc.fixed.lxc->distribution == "debian");
        CHECK_FALSE(lxc.fixed.proxy);
        // The executors' cross-field rules hold for the ceiling's values, at its own pointers.
        CHECK(ceiling_error(R"({"containment": "lxc", "network": {"defaultPolicy": "allow", "proxy": {"localhost": 1}}})")
                  .where == "/network/proxy/localhost");
        CHECK(ceiling_error(R"({"containment": "bubblewrap", "seatbelt": {}})").where == "/seatbelt");
        CHECK(ceiling_error(R"({"network": {"proxy": {"localhost": 0}}})").where == "/network/proxy/localhost");
    }

    TEST_CASE("a file: errors name the file and pointer; the file becomes the trust anchor") {
        TempTree t;
        std::string good = t.file("ceiling.json", R"({"readonlyPaths":["/usr"]})");
        auto c = load_ceiling_file(good, CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        CHECK(c->source_file->str() == good);
        std::string bad = t.file("bad.json", R"({"timeout":"soon"})");
        auto e = load_ceiling_file(bad, CeilingOptions{PathStyle::posix, true});
        REQUIRE_FALSE(e.has_value());
        CHECK(e.error().where == bad + ": /timeout");
        auto missing = load_ceiling_file(t.path("none.json"));
        REQUIRE_FALSE(missing.has_value());
        CHECK(missing.error().code == ErrorCode::io_error);
        CHECK(missing.error().where == t.path("none.json"));
    }

    TEST_CASE("canonicalised at load: symlinks resolved, ~ expanded, unresolvable roots are errors") {
        TempTree t;
        t.dir("real");
        t.link("alias", "real");
        t.link("loop", "loop");
        auto c = parse_ceiling("{\"readwritePaths\":[" + js(t.path("alias")) + "," + js(t.path("real/new")) + "]}",
                               CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        CHECK(c->canonical);
        CHECK(c->readwrite[0].str() == t.path("real"));
        CHECK(c->readwrite[1].str() == t.path("real/new"));  // absent roots are fine (created later)
        auto loop = parse_ceiling("{\"readonlyPaths\":[" + js(t.path("loop")) + "]}", CeilingOptions{PathStyle::posix, true});
        REQUIRE_FALSE(loop.has_value());
        CHECK(loop.error().where == "/readonlyPaths/0");
        CHECK(loop.error().message.find("cannot be resolved") != std::string::npos);
        // Canonicalising Windows paths on Linux is refused (lexical mode exists for that).
        auto w = parse_ceiling("{}", CeilingOptions{PathStyle::windows, true});
        CHECK_FALSE(w.has_value());
    }

    TEST_CASE("environment: CORDON_ and ENTRABOT_SANDBOX_ prefixes, both list separators") {
        for (std::string prefix : {"CORDON_", "ENTRABOT_SANDBOX_"}) {
            CAPTURE(prefix);
            auto c = ceiling_from_env(prefix, CeilingOptions{PathStyle::posix, false},
                                      env_of({{prefix + "READONLY_PATHS", "/usr:/etc"},
                                              {prefix + "READWRITE_PATHS", "/work"},
                                              {prefix + "TIMEOUT_MS", "30000"},
                                              {prefix + "NETWORK", "allow"},
                                              {prefix + "ENV_ALLOW", "LANG:LC_*"}}));
            REQUIRE(c.has_value());
            REQUIRE(c->readonly.size() == 2);
            CHECK(c->readonly[1].str() == "/etc");
            CHECK(c->readwrite[0].str() == "/work");
            CHECK(c->timeout.wire_value() == 30000);
            CHECK(c->network == NetworkDefault::allow);
            CHECK(c->env_allow == std::vector<std::string>{"LANG", "LC_*"});
            CHECK_FALSE(c->source_file.has_value());
        }
        // A Windows list splits at ';' on any host, and drive letters keep their colon.
        auto w = ceiling_from_env("ENTRABOT_SANDBOX_", CeilingOptions{PathStyle::windows, false},
                                  env_of({{"ENTRABOT_SANDBOX_READONLY_PATHS", "C:\\Users\\you\\Documents;D:\\b;\\\\srv\\share"}}));
        REQUIRE(w.has_value());
        REQUIRE(w->readonly.size() == 3);
        CHECK(w->readonly[0].str() == "C:\\Users\\you\\Documents");
        CHECK(w->readonly[1].str() == "D:\\b");
        CHECK(w->readonly[2].str() == "\\\\srv\\share\\");
        // The same list read as POSIX is an error, never a silent misparse.
        auto p = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                                  env_of({{"CORDON_READONLY_PATHS", "C:\\a;D:\\b"}}));
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error().where == "CORDON_READONLY_PATHS[0]");
        // Unset means the defaults.
        auto none = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false}, env_of({}));
        REQUIRE(none.has_value());
        CHECK(none->readonly.empty());
        CHECK(none->timeout.is_none());
        CHECK(none->network == NetworkDefault::block);
    }

    TEST_CASE("environment: bad values are errors naming the variable, not defaults") {
        auto err = [](std::map<std::string, std::string> vars, PathStyle style = PathStyle::posix) {
            auto c = ceiling_from_env("CORDON_", CeilingOptions{style, false}, env_of(std::move(vars)));
            REQUIRE(!c.has_value());
            CHECK(c.error().code == ErrorCode::invalid_policy);
            return c.error().where;
        };
        CHECK(err({{"CORDON_TIMEOUT_MS", "30s"}}) == "CORDON_TIMEOUT_MS");
        CHECK(err({{"CORDON_TIMEOUT_MS", "-1"}}) == "CORDON_TIMEOUT_MS");
        CHECK(err({{"CORDON_TIMEOUT_MS", ""}}) == "CORDON_TIMEOUT_MS");
        CHECK(err({{"CORDON_TIMEOUT_MS", "4294967296"}}) == "CORDON_TIMEOUT_MS");
        CHECK(err({{"CORDON_NETWORK", "Block"}}) == "CORDON_NETWORK");
        CHECK(err({{"CORDON_NETWORK", ""}}) == "CORDON_NETWORK");
        CHECK(err({{"CORDON_READONLY_PATHS", "/a::/b"}}) == "CORDON_READONLY_PATHS");
        CHECK(err({{"CORDON_READONLY_PATHS", "/a:"}}) == "CORDON_READONLY_PATHS");
        CHECK(err({{"CORDON_READWRITE_PATHS", "/a:rel"}}) == "CORDON_READWRITE_PATHS[1]");
        CHECK(err({{"CORDON_READONLY_PATHS", "C:\\a;C:rel"}}, PathStyle::windows) == "CORDON_READONLY_PATHS[1]");
        auto bad_prefix = ceiling_from_env("BAD PREFIX", CeilingOptions{PathStyle::posix, false}, env_of({}));
        CHECK_FALSE(bad_prefix.has_value());
        CHECK(ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                               env_of({{"CORDON_TIMEOUT_MS", "0"}}))->timeout.is_none());
    }

    TEST_CASE("split_path_list") {
        CHECK(split_path_list("", PathStyle::posix).value().empty());
        CHECK(split_path_list("/a:/b", PathStyle::posix).value() == std::vector<std::string>{"/a", "/b"});
        CHECK(split_path_list("C:\\a;D:\\b", PathStyle::windows).value() == std::vector<std::string>{"C:\\a", "D:\\b"});
        CHECK(split_path_list("C:\\a", PathStyle::windows).value() == std::vector<std::string>{"C:\\a"});
        CHECK_FALSE(split_path_list(";", PathStyle::windows).has_value());
    }
}
