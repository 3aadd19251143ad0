// SPDX-License-Identifier: MIT
// `cordon clamp`, run as a user would: stdout config, report on stderr or --report, exit codes 0/1/2.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cordon/mxc_json.hpp"
#include "support/run_command.hpp"
#include "support/temp_tree.hpp"

using cordon::test::required_env;
using cordon::test::run_command;
using cordon::test::TempTree;

namespace {
std::string cordon_exe() { return required_env("CORDON_EXE"); }
const std::string windows_request =
    R"({"version":"0.6.0-alpha","process":{"commandLine":"dir","cwd":"C:\\work\\src","timeout":0},)"
    R"("filesystem":{"readwritePaths":["c:\\WORK\\src","C:\\Windows","\\\\?\\C:\\work\\..\\work2"]}})";
}  // namespace

TEST_SUITE("clamp-cli") {
    TEST_CASE("--help has an example; usage errors exit 2") {
        auto r = run_command({cordon_exe(), "clamp", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Example") != std::string::npos);
        CHECK(run_command({cordon_exe(), "--help"}).out.find("clamp") != std::string::npos);
        CHECK(run_command({cordon_exe(), "clamp"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "clamp", "-"}).exit_code == 2);  // no ceiling
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling", "a", "--ceiling-env", "-"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling-env", "--backend", "nope", "-"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling-env", "--style", "dos", "-"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling-env", "--bogus", "-"}).exit_code == 2);
        // Windows paths cannot be canonicalised on Linux: say so instead of guessing.
        r = run_command({cordon_exe(), "clamp", "--ceiling-env", "--style", "windows", "-"}, windows_request);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("--no-canonical") != std::string::npos);
    }

    TEST_CASE("--contract picks the emitted contract; the report spells fields as the request does") {
        TempTree t;
        std::string ceiling = t.file("ceiling.json", R"({"readwritePaths":["C:\\work"],"network":{"defaultPolicy":"allow"}})");
        const std::string request =
            R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},"network":{"defaultPolicy":"allow"}})";
        std::vector<std::string> base{cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", "processcontainer",
                                      "--style", "windows", "--no-canonical"};
        auto with = [&](std::vector<std::string> extra) {
            auto argv = base;
            argv.insert(argv.end(), extra.begin(), extra.end());
            argv.push_back("-");
            return run_command(argv, request);
        };
        auto r = with({});  // SDK 1.0.1: 1.0.0, the legacy default read as egress
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto out = boost::json::parse(r.out);
        CHECK(out.at("version") == "1.0.0");
        CHECK(out.at("network").at("egress").at("default") == "allow");
        CHECK(out.at("process").at("env").as_array().empty());
        auto report = boost::json::parse(r.err);
        bool spelled = false;
        for (const auto& d : report.at("decisions").as_array())
            if (d.at("field") == "/network/defaultPolicy")  // the request's own pointer
                spelled = d.at("result").at(0).at("field") == "/network/egress/default";  // the emitted config's
        CHECK(spelled);
        r = with({"--sdk", "0.9.0", "--contract", "0.6.0-alpha"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(boost::json::parse(r.out).at("network").at("defaultPolicy") == "allow");
        CHECK(with({"--contract", "0.6.0-alpha"}).exit_code == 2);  // SDK 1.0.1 does not take it
        CHECK(with({"--contract", "0.8.0-alpha", "--sdk", "0.9.0"}).exit_code == 2);  // read, never emitted
    }

    TEST_CASE("windows clamping on Linux: clamped config on stdout, report in --report FILE") {
        TempTree t;
        std::string ceiling = t.file("ceiling.json", R"({"readwritePaths":["C:\\work"],"timeout":30000})");
        std::string report = t.path("report.json");
        auto r = run_command({cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", "processcontainer", "--style",
                              "windows", "--no-canonical", "--report", report, "-"},
                             windows_request);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(cordon::validate(r.out).empty());
        auto policy = cordon::from_mxc_json(r.out).value();
        CHECK(policy.containment == cordon::Containment::processcontainer);
        CHECK(policy.filesystem.readwrite == std::vector<std::string>{"C:\\WORK\\src"});
        CHECK(policy.process.timeout.wire_value() == 30000);
        CHECK(policy.process.cwd == "C:\\work\\src");
        std::ifstream in(report);
        std::stringstream text;
        text << in.rdbuf();
        auto doc = boost::json::parse(text.str());
        CHECK(doc.at("summary").at("dropped").as_int64() == 2);
        CHECK(doc.at("decisions").at(0).at("verdict").as_string() == "kept");
    }

    TEST_CASE("real paths: symlink escape dropped; report on stderr; --ceiling-env with a prefix") {
        TempTree t;
        t.dir("work/src");
        t.dir("secret");
        t.link("work/escape", t.path("secret"));
        std::string request = R"({"version":"0.6.0-alpha","process":{"commandLine":"ls"},"filesystem":{"readwritePaths":[")" +
                              t.path("work/src") + R"(",")" + t.path("work/escape") + R"("]}})";
        auto r = run_command({cordon_exe(), "clamp", "--ceiling-env", "ENTRABOT_SANDBOX_", "--backend", "bubblewrap", "-"},
                             request, {"ENTRABOT_SANDBOX_READWRITE_PATHS=" + t.path("work")});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto policy = cordon::from_mxc_json(r.out).value();
        CHECK(policy.filesystem.readwrite == std::vector<std::string>{t.path("work/src")});
        auto report = boost::json::parse(r.err);
        CHECK(report.at("decisions").at(1).at("reason").as_string() == "outside every ceiling root");
        // A bad variable value is an error naming the variable.
        r = run_command({cordon_exe(), "clamp", "--ceiling-env", "-"}, request, {"CORDON_TIMEOUT_MS=soon"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("CORDON_TIMEOUT_MS") != std::string::npos);
    }

    TEST_CASE("fail closed: host lists and unenforced denials exit 1 with backend-unsupported") {
        TempTree t;
        std::string ceiling = t.file("c.json", R"({"network":{"defaultPolicy":"allow"},"readonlyPaths":["/usr"]})");
        for (const char* backend : {"bubblewrap", "processcontainer", "seatbelt"}) {
            CAPTURE(backend);
            auto r = run_command({cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", backend, "--no-canonical", "-"},
                                 R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"network":{"allowedHosts":["example.com"],"defaultPolicy":"block"}})");
            CHECK(r.exit_code == 1);
            CHECK(r.err.find("backend-unsupported") != std::string::npos);
            CHECK(r.out.empty());
        }
        auto r = run_command({cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", "processcontainer", "--no-canonical", "-"},
                             R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"filesystem":{"deniedPaths":["/usr/secret"]}})");
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("deniedPaths") != std::string::npos);
    }

    TEST_CASE("egress: a 1.0.0 request's rules under the ceiling's network.egress, and the refusals") {
        TempTree t;
        std::string ceiling = t.file("c.json", R"({"network":{"egress":{
            "allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}],
            "deny":[{"to":[{"cidr":"10.1.9.0/24"}]}]}}})");
        auto clamp = [&](const std::string& egress, std::vector<std::string> extra = {}) {
            std::vector<std::string> argv{cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", "bubblewrap", "--no-canonical"};
            argv.insert(argv.end(), extra.begin(), extra.end());
            argv.push_back("-");
            return run_command(argv, R"({"version":"1.0.0","process":{"commandLine":"x"},"network":{"egress":)" + egress + "}}");
        };
        auto r = clamp(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(boost::json::serialize(boost::json::parse(r.out).at("network").at("egress")) ==
              R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16","except":["10.1.9.0/24"]}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
        auto report = boost::json::parse(r.err);
        const auto& d = report.at("decisions").as_array().back();  // the rule's decision
        CHECK(d.at("field") == "/network/egress/allow/0");
        CHECK(d.at("verdict") == "narrowed");
        CHECK(std::string(d.at("reason").as_string()).find("partly inside the ceiling's egress deny rules") != std::string::npos);
        r = clamp(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}]}]})", {"--sdk", "0.9.0", "--contract", "0.6.0-alpha"});
        CHECK(r.exit_code == 1);  // 0.6.0-alpha has no egress rules: refused, never opened or closed
        CHECK(r.err.find("backend-unsupported") != std::string::npos);
        std::string open = t.file("open.json", R"({"network":{"defaultPolicy":"allow"}})");
        r = run_command({cordon_exe(), "clamp", "--ceiling", open, "--backend", "bubblewrap", "--no-canonical", "-"},
                        R"({"version":"1.0.0","process":{"commandLine":"x"},"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.2.2"}]}]}}})");
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("10.0.2.2/32 is slirp4netns's address for the host") != std::string::npos);
        std::string bad = t.file("bad.json", R"({"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.1/8"}]}]}}})");
        r = run_command({cordon_exe(), "clamp", "--ceiling", bad, "--no-canonical", "-"},
                        R"({"version":"1.0.0","process":{"commandLine":"x"}})");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("/network/egress/allow/0/to/0/cidr") != std::string::npos);
    }

    TEST_CASE("domains: a request envelope {mxc, cordon.allowedDomains} under the ceiling's allowedDomains") {
        TempTree t;
        std::string ceiling = t.file("c.json", R"({"network":{"allowedDomains":["api.github.com","pypi.org:443"]}})");
        auto clamp = [&](const std::string& request, bool json = false) {
            std::vector<std::string> argv{cordon_exe(), "clamp", "--ceiling", ceiling, "--backend", "bubblewrap", "--no-canonical"};
            if (json) argv.push_back("--json");
            argv.push_back("-");
            return run_command(argv, request);
        };
        const std::string mxc = R"({"version":"1.0.0","process":{"commandLine":"x"}})";
        auto r = clamp(R"({"mxc":)" + mxc + R"(,"cordon":{"allowedDomains":["*.github.com","evil.example","pypi.org"]}})", true);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto out = boost::json::parse(r.out);
        CHECK(boost::json::serialize(out.at("allowedDomains")) == R"(["api.github.com","pypi.org:443"])");
        CHECK(out.at("config").as_object().if_contains("allowedDomains") == nullptr);  // the MXC config stays MXC
        const auto& decisions = out.at("report").at("decisions").as_array();
        auto verdict_of = [&](const char* field) -> std::string {
            for (const auto& d : decisions)
                if (d.at("field") == field) return std::string(d.at("verdict").as_string());
            return "";
        };
        CHECK(verdict_of("/network/allowedDomains/0") == "narrowed");
        CHECK(verdict_of("/network/allowedDomains/1") == "dropped");
        CHECK(verdict_of("/network/allowedDomains/2") == "narrowed");
        // A plain MXC config is read as before; an unknown envelope key, a bad cordon section, or an
        // MXC error inside the envelope exit 2 and say where.
        CHECK(clamp(mxc).exit_code == 0);
        r = clamp(R"({"mxc":)" + mxc + R"(,"extra":1})");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("/extra") != std::string::npos);
        r = clamp(R"({"mxc":)" + mxc + R"(,"cordon":{"allowedDomains":[7]}})");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("/cordon/allowedDomains/0") != std::string::npos);
        r = clamp(R"({"mxc":{"version":"1.0.0","process":{"commandLine":"x"},"bogus":1}})");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("/mxc/bogus") != std::string::npos);
    }

    TEST_CASE("parse errors exit 2 and name the input; hostile input never crashes") {
        TempTree t;
        std::string ceiling = t.file("c.json", R"({"readonlyPaths":["/usr"],"typo":1})");
        auto r = run_command({cordon_exe(), "clamp", "--ceiling", ceiling, "-"}, "{}");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(ceiling + ": /typo") != std::string::npos);
        std::string good = t.file("g.json", R"({"readonlyPaths":["/usr"]})");
        r = run_command({cordon_exe(), "clamp", "--ceiling", good, "-"}, R"({"version":"0.6.0-alpha","process":{}})");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("<stdin>: /process") != std::string::npos);
        r = run_command({cordon_exe(), "clamp", "--ceiling", good, t.path("missing.json")});
        CHECK(r.exit_code == 2);
        std::string garbage;
        for (int i = 0; i < 4000; ++i) garbage += static_cast<char>((i * 97) % 256);
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling", good, "-"}, garbage).exit_code == 2);
        CHECK(run_command({cordon_exe(), "clamp", "--ceiling", good, "-"}, std::string(50000, '[')).exit_code == 2);
    }
}
