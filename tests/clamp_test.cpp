// SPDX-License-Identifier: MIT
// clamp(): every rule of issue 3, for POSIX and Windows styles (lexically on any host), plus real symlinks.
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/socket_scan.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <map>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "support/clamp_helpers.hpp"
#include "support/temp_tree.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {
// The same scenario spelled for each style.
struct Spelling {
    PathStyle style;
    const char* name;
    std::string home, me, me2, proj, docs, etc, exec;
};
const Spelling posix_s{PathStyle::posix, "posix", "/home", "/home/me", "/home/me2", "/home/me/proj",
                       "/home/me/docs", "/etc", "/opt/mxc"};
const Spelling windows_s{PathStyle::windows, "windows", "C:\\Users", "C:\\Users\\me", "C:\\Users\\me2",
                         "C:\\Users\\me\\proj", "C:\\Users\\me\\docs", "C:\\Windows", "C:\\Program Files\\mxc"};
const Spelling styles[] = {posix_s, windows_s};

std::string sep(const Spelling& s) { return s.style == PathStyle::windows ? "\\" : "/"; }

// A ceiling with a read-write project and read-only docs and system directory.
Ceiling standard_ceiling(const Spelling& s, const std::string& extra = "") {
    return lexical_ceiling(s.style, "{\"readwritePaths\":[" + js(s.proj) + "],\"readonlyPaths\":[" + js(s.docs) + "," +
                                        js(s.etc) + "],\"timeout\":30000" + extra + "}");
}

std::string fs_request(const std::vector<std::string>& rw, const std::vector<std::string>& ro,
                       const std::string& extra_process = "", const std::string& extra = "") {
    auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& p : v) out += (out.empty() ? "" : ",") + js(p);
        return "[" + out + "]";
    };
    return "{\"version\":\"0.6.0-alpha\",\"process\":{\"commandLine\":\"run\"" + extra_process +
           "},\"filesystem\":{\"readwritePaths\":" + list(rw) + ",\"readonlyPaths\":" + list(ro) + "}" + extra + "}";
}

const ClampDecision& decision(const ClampOutcome& out, const std::string& field) {
    const ClampDecision* d = out.report.find(field);
    REQUIRE_MESSAGE(d != nullptr, ("no decision for " + field + " in " + out.report.to_json()));
    return *d;
}
}  // namespace

TEST_SUITE("clamp") {
    TEST_CASE("paths: kept inside a root, read-write under a read-only root downgraded, ancestor narrowed, outside dropped") {
        for (const Spelling& s : styles) {
            CAPTURE(s.name);
            Ceiling c = standard_ceiling(s);
            Policy r = request_of(fs_request({s.proj + sep(s) + "src", s.docs, s.me, s.me2}, {s.etc + sep(s) + "x", s.home}));
            ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(s.style));

            CHECK(decision(out, "/filesystem/readwritePaths/0").verdict == Verdict::kept);
            CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::downgraded);
            CHECK(decision(out, "/filesystem/readwritePaths/1").reason.find("read-only ceiling root") != std::string::npos);
            const ClampDecision& narrowed = decision(out, "/filesystem/readwritePaths/2");
            CHECK(narrowed.verdict == Verdict::narrowed);
            REQUIRE(narrowed.result.size() == 2);
            CHECK(narrowed.result[0] == ClampResultItem{"/filesystem/readwritePaths", s.proj});
            CHECK(narrowed.result[1] == ClampResultItem{"/filesystem/readonlyPaths", s.docs});
            CHECK(decision(out, "/filesystem/readwritePaths/3").verdict == Verdict::dropped);
            CHECK(decision(out, "/filesystem/readwritePaths/3").reason == "outside every ceiling root");
            CHECK(decision(out, "/filesystem/readonlyPaths/0").verdict == Verdict::kept);
            const ClampDecision& home = decision(out, "/filesystem/readonlyPaths/1");
            CHECK(home.verdict == Verdict::narrowed);
            CHECK(home.result.size() == 2);  // proj and docs, both read-only

            CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{s.proj + sep(s) + "src", s.proj});
            CHECK(out.policy.filesystem.readonly == std::vector<std::string>{s.docs, s.etc + sep(s) + "x"});
        }
    }

    TEST_CASE("paths: nothing is granted by an empty ceiling") {
        for (const Spelling& s : styles) {
            ClampOutcome out = clamp_ok(request_of(fs_request({s.proj}, {s.etc})), lexical_ceiling(s.style, "{}"),
                                        caps_of(), lexical(s.style));
            CHECK(out.policy.filesystem.empty());
            CHECK(out.report.count(Verdict::dropped) == 2);
        }
    }

    TEST_CASE("windows adversarial spellings: case, \\\\?\\, slashes, .. games, me2 vs me, streams, trailing dots, devices") {
        Ceiling c = lexical_ceiling(PathStyle::windows, R"({"readwritePaths":["C:\\Users\\me"]})");
        Policy r = request_of(fs_request(
            {"c:\\USERS\\ME\\proj", "\\\\?\\C:\\Users\\me\\x", "C:/Users/me//y/", "C:\\Users\\me\\..\\me2",
             "C:\\Users\\me2", "C:\\Users\\me\\a\\..\\..\\..\\Windows", "C:\\Users\\me\\f.txt:secret", "C:\\Users\\me\\docs.",
             "C:\\Users\\me\\NUL", "\\\\.\\C:\\Users\\me", "Users\\me", "C:Users\\me", "\\Users\\me",
             "\\\\?\\GLOBALROOT\\Device\\x", "C:\\Users\\me\\x "},
            {}));
        ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(PathStyle::windows));
        CHECK(out.policy.filesystem.readwrite ==
              std::vector<std::string>{"C:\\USERS\\ME\\proj", "C:\\Users\\me\\x", "C:\\Users\\me\\y"});
        for (int i = 0; i < 3; ++i) CHECK(decision(out, "/filesystem/readwritePaths/" + std::to_string(i)).verdict == Verdict::kept);
        for (int i = 3; i < 15; ++i) {
            CAPTURE(i);
            CHECK(decision(out, "/filesystem/readwritePaths/" + std::to_string(i)).verdict == Verdict::dropped);
        }
        CHECK(decision(out, "/filesystem/readwritePaths/6").reason.find("data stream") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/7").reason.find("dot or space") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/8").reason.find("reserved") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/11").reason.find("drive-relative") != std::string::npos);
    }

    TEST_CASE("posix adversarial spellings: .. games, prefix siblings, repeated separators") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"readwritePaths":["/home/me"]})");
        Policy r = request_of(fs_request(
            {"//home//me/./x/", "/home/me/../me2", "/home/me2", "/home/me/../../etc", "/home/Me", "home/me", "/home/me/a/.."}, {}));
        ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{"/home/me/x", "/home/me"});
        CHECK(out.report.count(Verdict::dropped) == 5);
    }

    TEST_CASE("timeout: the stricter of the two, 0 and absent mean none") {
        struct Row {
            const char* request;  // process.timeout JSON, or "" for absent
            std::uint32_t ceiling;
            std::uint32_t expected;  // wire value, 0 = none
            Verdict verdict;
        };
        for (Row row : {Row{"", 30000, 30000, Verdict::narrowed}, Row{"0", 30000, 30000, Verdict::narrowed},
                        Row{"1000", 30000, 1000, Verdict::kept}, Row{"60000", 30000, 30000, Verdict::narrowed},
                        Row{"0", 0, 0, Verdict::kept}, Row{"", 0, 0, Verdict::kept}, Row{"5000", 0, 5000, Verdict::kept}}) {
            CAPTURE(row.request);
            CAPTURE(row.ceiling);
            std::string extra = *row.request ? std::string(",\"timeout\":") + row.request : "";
            Ceiling c = lexical_ceiling(PathStyle::posix, "{\"timeout\":" + std::to_string(row.ceiling) + "}");
            ClampOutcome out = clamp_ok(request_of(fs_request({}, {}, extra)), c, caps_of(), lexical(PathStyle::posix));
            CHECK(out.policy.process.timeout.wire_value() == row.expected);
            CHECK(decision(out, "/process/timeout").verdict == row.verdict);
        }
        // A ceiling without a timeout field sets no limit.
        ClampOutcome out = clamp_ok(request_of(fs_request({}, {}, ",\"timeout\":700")),
                                    lexical_ceiling(PathStyle::posix, "{}"), caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.process.timeout.wire_value() == 700);
    }

    TEST_CASE("network: a blocking ceiling forces block and drops requested hosts (reported)") {
        for (const char* ceiling : {"{}", R"({"network":{"defaultPolicy":"block"}})"}) {
            Ceiling c = lexical_ceiling(PathStyle::posix, ceiling);
            Policy r = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"allow"})"));
            ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
            CHECK(out.policy.effective_egress_default() == EgressDefault::deny);
            CHECK(decision(out, "/network/egress/default").verdict == Verdict::dropped);

            r = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"block","allowedHosts":["example.com"]})"));
            out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
            CHECK(out.policy.network->legacy.allowed_hosts.empty());
            CHECK(decision(out, "/network/allowedHosts/0").verdict == Verdict::dropped);
        }
    }

    TEST_CASE("network: host lists fail closed where the backend does not filter hosts") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"network":{"defaultPolicy":"allow"}})");
        Policy hosts = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"block","allowedHosts":["example.com"]})"));
        for (const Capabilities& caps : capability_table) {
            CAPTURE(to_string(caps.backend));
            CAPTURE(caps.sdk_version);
            REQUIRE_FALSE(caps.host_filtering);  // true for no backend with the pinned contract
            auto out = clamp(hosts, c, caps, lexical(PathStyle::posix));
            REQUIRE_FALSE(out.has_value());
            CHECK(out.error().code == ErrorCode::backend_unsupported);
            CHECK(out.error().where == "/network");
        }
        Policy blocked = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"allow","blockedHosts":["x.org"]})"));
        auto out = clamp(blocked, c, caps_of(), lexical(PathStyle::posix));
        REQUIRE_FALSE(out.has_value());
        CHECK(out.error().code == ErrorCode::backend_unsupported);
        // Allow without hosts needs no filtering.
        Policy allow = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"allow"})"));
        CHECK(clamp_ok(allow, c, caps_of(), lexical(PathStyle::posix)).policy.effective_egress_default() ==
              EgressDefault::allow);
    }

    TEST_CASE("network: with host filtering, hosts are kept within the ceiling's hosts") {
        Capabilities filtering = caps_of();
        filtering.host_filtering = true;
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"network":{"allowedHosts":["api.example.com","*.pkg.dev"]}})");
        Policy r = request_of(fs_request({}, {}, "",
                                         R"(,"network":{"defaultPolicy":"block","allowedHosts":["API.example.com","npm.pkg.dev","evil.com"]})"));
        ClampOutcome out = clamp_ok(r, c, filtering, lexical(PathStyle::posix));
        CHECK(out.policy.network->legacy.allowed_hosts == std::vector<std::string>{"API.example.com", "npm.pkg.dev"});
        CHECK(decision(out, "/network/allowedHosts/2").verdict == Verdict::dropped);
        // "allow everything" under a host-limited ceiling becomes the ceiling's hosts.
        r = request_of(fs_request({}, {}, "", R"(,"network":{"defaultPolicy":"allow"})"));
        out = clamp_ok(r, c, filtering, lexical(PathStyle::posix));
        CHECK(out.policy.effective_egress_default() == EgressDefault::deny);
        CHECK(out.policy.network->legacy.allowed_hosts == std::vector<std::string>{"api.example.com", "*.pkg.dev"});
        CHECK(decision(out, "/network/egress/default").verdict == Verdict::narrowed);
    }

    TEST_CASE("env: the backend's default environment is inherited only when the ceiling admits PATH and TERM") {
        // A 1.0.0 request without `env` asks for the default environment (PATH and TERM on bubblewrap).
        Policy r = request_of(R"({"version":"1.0.0","process":{"commandLine":"run"}})");
        REQUIRE(r.process.inherit_default_env);
        for (const char* ceiling : {"{}", R"({"env":{"allow":["TERM"]}})", R"({"env":{"allow":["P*","TERM"]}})"}) {
            CAPTURE(ceiling);
            ClampOutcome out = clamp_ok(r, lexical_ceiling(PathStyle::posix, ceiling), caps_of(Backend::bubblewrap, "1.0.1"),
                                        lexical(PathStyle::posix));
            CHECK_FALSE(out.policy.process.inherit_default_env);  // PATH needs its exact name
            CHECK(decision(out, "/process/inheritDefaultEnv").verdict == Verdict::dropped);
            CHECK(decision(out, "/process/inheritDefaultEnv").reason.find("PATH") != std::string::npos);
        }
        ClampOutcome out = clamp_ok(r, lexical_ceiling(PathStyle::posix, R"({"env":{"allow":["PATH","TERM"]}})"),
                                    caps_of(Backend::bubblewrap, "1.0.1"), lexical(PathStyle::posix));
        CHECK(out.policy.process.inherit_default_env);
        CHECK(decision(out, "/process/inheritDefaultEnv").verdict == Verdict::kept);
        // Under a legacy request an absent env is empty: nothing to inherit, nothing reported.
        out = clamp_ok(request_of(R"({"version":"0.6.0-alpha","process":{"commandLine":"run"}})"),
                       lexical_ceiling(PathStyle::posix, R"({"env":{"allow":["PATH","TERM"]}})"), caps_of(),
                       lexical(PathStyle::posix));
        CHECK_FALSE(out.policy.process.inherit_default_env);
        CHECK(out.report.find("/process/inheritDefaultEnv") == nullptr);
    }

    TEST_CASE("env: allow-list with globs; dangerous variables need their exact name") {
        Ceiling c = lexical_ceiling(PathStyle::posix,
                                    R"({"env":{"allow":["LANG","LC_*","LD_*","DYLD_*","*ENV","PYTHONSTARTUP","PATH"]}})");
        Policy r = request_of(fs_request(
            {}, {},
            R"(,"env":["LANG=C","LC_ALL=C","LD_PRELOAD=/x.so","LD_LIBRARY_PATH=/x","DYLD_INSERT_LIBRARIES=x","BASH_ENV=/x","ENV=/x","PYTHONSTARTUP=/x","HOME=/root","PATH=/bin","NOVALUE","lang=c"])"));
        ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
        std::vector<std::string> kept;
        for (const auto& e : out.policy.process.env) kept.push_back(e.entry());
        // PYTHONSTARTUP is named exactly, so the operator's choice stands; LD_*/DYLD_*/*ENV are only globs.
        CHECK(kept == std::vector<std::string>{"LANG=C", "LC_ALL=C", "PYTHONSTARTUP=/x", "PATH=/bin"});
        for (int i : {2, 3, 4, 5, 6})
            CHECK(decision(out, "/process/env/" + std::to_string(i)).reason.find("exactly") != std::string::npos);
        CHECK(decision(out, "/process/env/8").reason.find("allow-list") != std::string::npos);
        CHECK(decision(out, "/process/env/10").reason.find("'='") != std::string::npos);
        CHECK(decision(out, "/process/env/11").verdict == Verdict::dropped);  // POSIX names are case-sensitive

        // Windows environments are case-insensitive, in the allow-list and in the danger rule.
        Ceiling w = lexical_ceiling(PathStyle::windows, R"({"env":{"allow":["Path","LD_*"]}})");
        out = clamp_ok(request_of(fs_request({}, {}, R"(,"env":["PATH=C:\\x","ld_preload=x"])")), w, caps_of(),
                       lexical(PathStyle::windows));
        REQUIRE(out.policy.process.env.size() == 1);
        CHECK(out.policy.process.env[0].name == "PATH");
        // Named exactly, a dangerous variable passes.
        Ceiling exact = lexical_ceiling(PathStyle::posix, R"({"env":{"allow":["LD_LIBRARY_PATH"]}})");
        out = clamp_ok(request_of(fs_request({}, {}, R"(,"env":["LD_LIBRARY_PATH=/opt/lib"])")), exact, caps_of(),
                       lexical(PathStyle::posix));
        CHECK(out.policy.process.env.size() == 1);
    }

    TEST_CASE("env: every code-loading family is refused through a glob and admitted when named exactly") {
        // One member of each family (detail::dangerous_env_patterns), and the names the review found.
        const std::vector<std::string> dangerous{
            "LD_AUDIT", "GCONV_PATH", "GLIBC_TUNABLES", "SHELLOPTS", "PS4", "PROMPT_COMMAND", "BASH_FUNC_ls%%",
            "PATH", "HOME", "PYTHONPATH", "PYTHONBREAKPOINT", "NODE_OPTIONS", "PERL5OPT", "PERL5LIB", "RUBYOPT",
            "JAVA_TOOL_OPTIONS", "GIT_SSH_COMMAND", "GIT_CONFIG_COUNT", "LESSOPEN", "OPENSSL_CONF", "CFLAGS",
            "MAKEFLAGS", "RUSTC_WRAPPER", "npm_config_script_shell", "Comspec"};
        std::string entries;
        for (const auto& name : dangerous) entries += (entries.empty() ? "" : ",") + js(name + "=x");
        Ceiling any = lexical_ceiling(PathStyle::posix, R"({"env":{"allow":["*"]}})");
        ClampOutcome out = clamp_ok(request_of(fs_request({}, {}, ",\"env\":[" + entries + ",\"LANG=C\"]")), any,
                                    caps_of(), lexical(PathStyle::posix));
        REQUIRE(out.policy.process.env.size() == 1);  // only LANG passes `*`
        CHECK(out.policy.process.env[0].name == "LANG");
        for (std::size_t i = 0; i < dangerous.size(); ++i) {
            CAPTURE(dangerous[i]);
            const ClampDecision& d = decision(out, "/process/env/" + std::to_string(i));
            CHECK(d.verdict == Verdict::dropped);
            CHECK(d.reason.find("naming it exactly") != std::string::npos);
        }
        // Named exactly, each one passes: the operator chose it.
        std::string names;
        for (const auto& name : dangerous) names += (names.empty() ? "" : ",") + js(name);
        Ceiling exact = lexical_ceiling(PathStyle::posix, "{\"env\":{\"allow\":[" + names + "]}}");
        out = clamp_ok(request_of(fs_request({}, {}, ",\"env\":[" + entries + "]")), exact, caps_of(),
                       lexical(PathStyle::posix));
        CHECK(out.policy.process.env.size() == dangerous.size());
    }

    TEST_CASE("env: an allow-list entry holding NUL or '=' is refused, in the file and in the environment") {
        for (const char* bad : {R"({"env":{"allow":["A\u0000B"]}})", R"({"env":{"allow":["A=B"]}})"}) {
            auto c = parse_ceiling(bad, CeilingOptions{PathStyle::posix, false});
            REQUIRE_FALSE(c);
            CHECK(c.error().where == "/env/allow/0");
        }
        auto lookup = [](const std::string& n) -> std::optional<std::string> {
            if (n == "CORDON_ENV_ALLOW") return std::string("LANG:A=B");
            return std::nullopt;
        };
        auto c = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false}, lookup);
        REQUIRE_FALSE(c);
        CHECK(c.error().where == "CORDON_ENV_ALLOW");
    }

    TEST_CASE("cwd: kept only within a granted path after clamping, else dropped") {
        for (const Spelling& s : styles) {
            CAPTURE(s.name);
            Ceiling c = standard_ceiling(s);
            auto with_cwd = [&](const std::string& cwd, std::vector<std::string> rw) {
                return clamp_ok(request_of(fs_request(rw, {}, ",\"cwd\":" + js(cwd))), c, caps_of(), lexical(s.style));
            };
            ClampOutcome out = with_cwd(s.proj + sep(s) + "src", {s.proj});
            CHECK(out.policy.process.cwd == s.proj + sep(s) + "src");
            out = with_cwd(s.docs, {s.proj});  // the ceiling allows docs, but nothing granted it
            CHECK_FALSE(out.policy.process.cwd.has_value());
            CHECK(decision(out, "/process/cwd").reason.find("not within any granted path") != std::string::npos);
            out = with_cwd(s.me2, {s.me2});  // its grant was dropped
            CHECK_FALSE(out.policy.process.cwd.has_value());
            out = with_cwd(s.home, {s.home});  // narrowed grant: cwd above it is not inside
            CHECK_FALSE(out.policy.process.cwd.has_value());
        }
    }

    TEST_CASE("trust anchors: the executor directory is never writable, inside, equal or above") {
        for (const Spelling& s : styles) {
            CAPTURE(s.name);
            std::string root = s.style == PathStyle::windows ? "C:\\" : "/";
            Ceiling c = lexical_ceiling(s.style, "{\"readwritePaths\":[" + js(root) + "]}");
            ClampOptions o = lexical(s.style);
            o.executor_dir = s.exec;
            std::string parent = s.exec.substr(0, s.exec.rfind(sep(s)));
            Policy r = request_of(fs_request({s.exec, s.exec + sep(s) + "bin", parent, s.proj}, {}));
            ClampOutcome out = clamp_ok(r, c, caps_of(), o);
            CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{s.proj});
            for (int i : {0, 1, 2}) {
                const ClampDecision& d = decision(out, "/filesystem/readwritePaths/" + std::to_string(i));
                CHECK(d.verdict == Verdict::downgraded);
                CHECK(d.reason.find("executor") != std::string::npos);
                REQUIRE(d.result.size() == 1);
                CHECK(d.result[0].field == "/filesystem/readonlyPaths");
            }
        }
        // Case games do not get around it on Windows.
        Ceiling c = lexical_ceiling(PathStyle::windows, R"({"readwritePaths":["C:\\"]})");
        ClampOptions o = lexical(PathStyle::windows);
        o.executor_dir = "C:\\Program Files\\MXC";
        ClampOutcome out = clamp_ok(request_of(fs_request({"c:\\PROGRAM FILES\\mxc\\x"}, {})), c, caps_of(), o);
        CHECK(out.policy.filesystem.readwrite.empty());
        CHECK(out.policy.filesystem.readonly.size() == 1);
    }

    TEST_CASE("trust anchors: the ceiling file in use is never writable") {
        TempTree t;
        t.dir("work");
        std::string file = t.file("etc/ceiling.json", "{\"readwritePaths\":[" + js(t.root()) + "]}");
        for (bool canonical : {false, true}) {
            CAPTURE(canonical);
            auto c = load_ceiling_file(file, CeilingOptions{PathStyle::posix, canonical});
            REQUIRE(c.has_value());
            REQUIRE(c->source_file.has_value());
            CHECK(c->source_file->str() == file);
            ClampOptions o = ClampOptions::of(PathStyle::posix, canonical);
            ClampOutcome out = clamp_ok(request_of(fs_request({file, t.path("etc"), t.root(), t.path("work")}, {})), *c,
                                        caps_of(), o);
            CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{t.path("work")});
            CHECK(out.policy.filesystem.readonly == std::vector<std::string>{file, t.path("etc"), t.root()});
            CHECK(decision(out, "/filesystem/readwritePaths/0").reason.find("ceiling file") != std::string::npos);
        }
    }

    TEST_CASE("containment: the ceiling's backend wins; a ceiling for another backend is refused") {
        Policy r = request_of(R"({"version":"0.6.0-alpha","containment":"lxc","process":{"commandLine":"x"},"lxc":{"distribution":"debian","release":"12"}})");
        ClampOutcome out = clamp_ok(r, lexical_ceiling(PathStyle::posix, R"({"containment":"bubblewrap"})"), caps_of(),
                                    lexical(PathStyle::posix));
        CHECK(out.policy.containment == Containment::bubblewrap);
        CHECK(decision(out, "/containment").verdict == Verdict::dropped);
        CHECK_FALSE(out.policy.lxc.has_value());
        CHECK(decision(out, "/lxc").verdict == Verdict::dropped);
        // No containment in the ceiling: the backend whose capabilities decide.
        out = clamp_ok(r, lexical_ceiling(PathStyle::windows, "{}"), caps_of(Backend::processcontainer),
                       lexical(PathStyle::windows));
        CHECK(out.policy.containment == Containment::processcontainer);
        auto bad = clamp(r, lexical_ceiling(PathStyle::posix, R"({"containment":"seatbelt"})"), caps_of(),
                         lexical(PathStyle::posix));
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::backend_unsupported);
    }

    TEST_CASE("ceiling-only fields: dropped by default, each reported; taken only when requestMaySet names them") {
        const std::string request =
            R"({"version":"0.6.0-alpha","containerId":"agent","containment":"processcontainer",)"
            R"("process":{"commandLine":"x"},"lifecycle":{"destroyOnExit":false},"fallback":{"allowDaclMutation":true},)"
            R"("network":{"enforcementMode":"firewall","allowLocalNetwork":true,"proxy":{"url":"http://p:8080"}},)"
            R"("ui":{"clipboard":"all","injection":true},)"
            R"("processContainer":{"leastPrivilege":false,"capabilities":["internetClient","documentsLibrary"],"ui":{"isolation":"desktop"}}})";
        Policy r = request_of(request);
        Ceiling strict = lexical_ceiling(
            PathStyle::windows,
            R"({"containment":"processcontainer","ui":{"clipboard":"none"},"processContainer":{"leastPrivilege":true},"lifecycle":{"destroyOnExit":true}})");
        ClampOutcome out = clamp_ok(r, strict, caps_of(Backend::processcontainer), lexical(PathStyle::windows));
        for (const char* field : {"/containerId", "/lifecycle", "/fallback/allowDaclMutation", "/network/enforcementMode",
                                  "/network/allowLocalNetwork", "/runtimeConfig/networkProxy", "/ui", "/processContainer/leastPrivilege",
                                  "/processContainer/ui", "/processContainer/capabilities/0",
                                  "/processContainer/capabilities/1"}) {
            CAPTURE(field);
            CHECK(decision(out, field).verdict == Verdict::dropped);
        }
        CHECK_FALSE(out.policy.container_id.has_value());
        CHECK(out.policy.ui->clipboard == ClipboardAccess::none);  // the ceiling's own values
        CHECK(out.policy.process_container->least_privilege == true);
        CHECK(out.policy.process_container->capabilities.empty());
        CHECK(out.policy.lifecycle->destroy_on_exit == true);
        CHECK_FALSE(out.policy.fallback.has_value());
        CHECK_FALSE(out.policy.network->proxy.has_value());

        Ceiling open = lexical_ceiling(
            PathStyle::windows,
            R"({"containment":"processcontainer","requestMaySet":["containerId","lifecycle","fallback.allowDaclMutation","ui",)"
            R"("network.enforcementMode","processContainer.capabilities","processContainer.leastPrivilege","processContainer.ui"]})");
        out = clamp_ok(r, open, caps_of(Backend::processcontainer), lexical(PathStyle::windows));
        CHECK(out.policy.container_id == "agent");
        CHECK(out.policy.ui->clipboard == ClipboardAccess::all);
        CHECK(out.policy.fallback->allow_dacl_mutation == true);
        CHECK(out.policy.network->legacy.enforcement_mode == EnforcementMode::firewall);
        // Even when allowed, a network capability does not open a blocked network.
        CHECK(out.policy.process_container->capabilities == std::vector<std::string>{"documentsLibrary"});
        CHECK(decision(out, "/processContainer/capabilities/0").reason.find("blocked network") != std::string::npos);
        // Proxy and allowLocalNetwork stay dropped while the network is blocked.
        CHECK(decision(out, "/runtimeConfig/networkProxy").verdict == Verdict::dropped);
    }

    TEST_CASE("seatbelt section: ceiling-only; profileOverride needs its own permission; no keychain field exists") {
        const std::string request =
            R"({"version":"0.7.0-alpha","containment":"seatbelt","process":{"commandLine":"x"},)"
            R"x("seatbelt":{"profileOverride":"(allow default)","guiAccess":true,"keychainAccess":false}})x";
        Policy r = request_of(request);
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"containment":"seatbelt"})");
        ClampOutcome out = clamp_ok(r, c, caps_of(Backend::seatbelt), lexical(PathStyle::posix));
        CHECK_FALSE(out.policy.seatbelt.has_value());
        CHECK(decision(out, "/seatbelt/profileOverride").verdict == Verdict::dropped);
        CHECK(decision(out, "/seatbelt").verdict == Verdict::dropped);

        c = lexical_ceiling(PathStyle::posix, R"({"containment":"seatbelt","requestMaySet":["seatbelt"]})");
        out = clamp_ok(r, c, caps_of(Backend::seatbelt), lexical(PathStyle::posix));
        REQUIRE(out.policy.seatbelt.has_value());
        CHECK(out.policy.seatbelt->gui_access == true);
        CHECK_FALSE(out.policy.seatbelt->profile_override.has_value());
        CHECK(to_mxc_json(out.policy, emit_contract(out.policy)).value().find("keychain") == std::string::npos);

        c = lexical_ceiling(PathStyle::posix, R"({"containment":"seatbelt","requestMaySet":["seatbelt.profileOverride"]})");
        out = clamp_ok(r, c, caps_of(Backend::seatbelt), lexical(PathStyle::posix));
        CHECK(out.policy.seatbelt->profile_override == "(allow default)");
        CHECK_FALSE(out.policy.seatbelt->gui_access.has_value());

        // keychainAccess: true never parses, and the ceiling schema has no such field.
        CHECK_FALSE(from_mxc_json(R"({"version":"0.7.0-alpha","containment":"seatbelt","process":{"commandLine":"x"},"seatbelt":{"keychainAccess":true}})")
                        .has_value());
        auto bad = parse_ceiling(R"({"seatbelt":{"keychainAccess":false}})", CeilingOptions{PathStyle::posix, false});
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().where == "/seatbelt/keychainAccess");
    }

    TEST_CASE("deniedPaths: request denials are added (they only narrow); unenforced denials fail closed") {
        for (const Spelling& s : styles) {
            CAPTURE(s.name);
            Ceiling c = standard_ceiling(s, ",\"deniedPaths\":[" + js(s.proj + sep(s) + "secrets") + "]");
            std::string req = "{\"version\":\"0.6.0-alpha\",\"process\":{\"commandLine\":\"x\"},\"filesystem\":{"
                              "\"readwritePaths\":[" + js(s.proj) + "," + js(s.proj + sep(s) + "secrets" + sep(s) + "k") +
                              "],\"deniedPaths\":[" + js(s.proj + sep(s) + ".git") + "]}}";
            ClampOutcome out = clamp_ok(request_of(req), c, caps_of(), lexical(s.style));
            CHECK(out.policy.filesystem.denied ==
                  std::vector<std::string>{s.proj + sep(s) + "secrets", s.proj + sep(s) + ".git"});
            CHECK(decision(out, "/filesystem/deniedPaths/0").verdict == Verdict::kept);
            // A grant inside a ceiling denial is dropped.
            CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::dropped);
            CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{s.proj});

            // processcontainer does not enforce deniedPaths: refuse, do not run the denial unenforced.
            auto refused = clamp(request_of(req), c, caps_of(Backend::processcontainer), lexical(s.style));
            REQUIRE_FALSE(refused.has_value());
            CHECK(refused.error().code == ErrorCode::backend_unsupported);
            CHECK(refused.error().where == "/filesystem/deniedPaths");
        }
        // A denial cordon cannot read is an error, not silently lifted.
        auto bad = clamp(request_of(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"filesystem":{"deniedPaths":["C:\\x:y"]}})"),
                         lexical_ceiling(PathStyle::windows, "{}"), caps_of(), lexical(PathStyle::windows));
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::invalid_policy);
        CHECK(bad.error().where == "/filesystem/deniedPaths/0");
    }

    TEST_CASE("options: style and canonical mode must match the ceiling") {
        Ceiling c = lexical_ceiling(PathStyle::windows, "{}");
        Policy r = request_of(fs_request({}, {}));
        CHECK(clamp(r, c, caps_of(), lexical(PathStyle::posix)).error().code == ErrorCode::invalid_policy);
        CHECK(clamp(r, c, caps_of(), ClampOptions::of(PathStyle::windows, true)).error().code ==
              ErrorCode::invalid_policy);
        ClampOptions o = lexical(PathStyle::windows);
        o.executor_dir = "relative\\dir";
        CHECK(clamp(r, c, caps_of(), o).error().where == "relative\\dir");
    }

    TEST_CASE("report: machine-readable JSON with a summary and one entry per requested item") {
        Ceiling c = standard_ceiling(posix_s);
        ClampOutcome out = clamp_ok(request_of(fs_request({"/home/me/proj/a", "/srv"}, {"/home"})), c, caps_of(),
                                    lexical(PathStyle::posix));
        auto doc = boost::json::parse(out.report.to_json());
        CHECK(doc.at("summary").at("kept").as_int64() == 1);
        CHECK(doc.at("summary").at("dropped").as_int64() == 1);
        CHECK(doc.at("summary").at("narrowed").as_int64() == 2);  // /home and the timeout
        const auto& decisions = doc.at("decisions").as_array();
        CHECK(decisions.size() == 4);
        CHECK(decisions[1].at("field").as_string() == "/filesystem/readwritePaths/1");
        CHECK(decisions[1].at("verdict").as_string() == "dropped");
        CHECK(decisions[1].at("reason").as_string() == "outside every ceiling root");
    }

    TEST_CASE("report: strings are escaped, valid UTF-8 is kept, other bytes become U+FFFD") {
        ClampReport report;
        report.decisions.push_back({"/a~1b", "q\"b\\c\x01" "d \xC3\xA9 \xFF e\xC3", Verdict::kept,
                                    {{"/f", "\x7F\xE2\x82\xAC"}}, "tab\there"});
        CHECK(report.to_json() ==
              "{\"summary\":{\"kept\":1,\"narrowed\":0,\"downgraded\":0,\"dropped\":0},\"decisions\":[{\"field\":\"/a~1b\","
              "\"requested\":\"q\\\"b\\\\c\\u0001d \xC3\xA9 \\ufffd e\\ufffd\",\"verdict\":\"kept\",\"result\":[{\"field\":\"/f\","
              "\"value\":\"\x7F\xE2\x82\xAC\"}],\"reason\":\"tab\\u0009here\"}]}");
        CHECK(boost::json::parse(report.to_json()).at("decisions").at(0).at("requested").as_string() ==
              "q\"b\\c\x01" "d \xC3\xA9 \xEF\xBF\xBD e\xEF\xBF\xBD");
    }
}

TEST_SUITE("clamp-canonical") {
    TEST_CASE("a symlink in a granted directory that points outside does not pass; one pointing inside resolves") {
        TempTree t;
        t.dir("granted/real");
        t.dir("outside");
        t.link("granted/escape", t.path("outside"));
        t.link("granted/inner", "real");
        t.link("granted/loop", "loop");
        t.link("granted/dangling", t.path("outside/new"));
        auto c = parse_ceiling("{\"readwritePaths\":[" + js(t.path("granted")) + "]}", CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        Policy r = request_of(fs_request({t.path("granted/escape"), t.path("granted/escape/x"), t.path("granted/inner"),
                                          t.path("granted/loop"), t.path("granted/dangling"), t.path("granted/new/file")},
                                         {}));
        ClampOutcome out = clamp_ok(r, *c, caps_of(), ClampOptions::of(PathStyle::posix, true));
        CHECK(out.policy.filesystem.readwrite ==
              std::vector<std::string>{t.path("granted/real"), t.path("granted/new/file")});
        CHECK(decision(out, "/filesystem/readwritePaths/0").reason == "outside every ceiling root");
        CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::dropped);
        CHECK(decision(out, "/filesystem/readwritePaths/3").reason.find("never granted") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/4").reason.find("dangling") != std::string::npos);
    }

    TEST_CASE("an unreadable path is unknown and never granted") {
        if (::geteuid() == 0) return;  // root reads everything; the canonical test covers EACCES as another user
        TempTree t;
        t.dir("granted/locked/inner");
        ::chmod(t.path("granted/locked").c_str(), 0);
        auto c = parse_ceiling("{\"readonlyPaths\":[" + js(t.path("granted")) + "]}", CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        ClampOutcome out = clamp_ok(request_of(fs_request({}, {t.path("granted/locked/inner")})), *c, caps_of(),
                                    ClampOptions::of(PathStyle::posix, true));
        ::chmod(t.path("granted/locked").c_str(), 0700);
        CHECK(out.policy.filesystem.readonly.empty());
    }

    TEST_CASE("the ceiling is canonicalised once, at load: later symlink changes do not move its roots") {
        TempTree t;
        t.dir("a");
        t.dir("b");
        t.link("root", "a");
        auto c = parse_ceiling("{\"readwritePaths\":[" + js(t.path("root")) + "]}", CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        CHECK(c->readwrite[0].str() == t.path("a"));
        std::filesystem::remove(t.path("root"));
        t.link("root", "b");
        ClampOutcome out = clamp_ok(request_of(fs_request({t.path("root"), t.path("a")}, {})), *c, caps_of(),
                                    ClampOptions::of(PathStyle::posix, true));
        CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{t.path("a")});
    }

    TEST_CASE("backends without file grants get the parent directory, if the ceiling allows it with the same access") {
        TempTree t;
        t.file("rw/notes.txt");
        t.file("ro/readme.txt");
        t.file("only/file.txt");
        auto c = parse_ceiling("{\"readwritePaths\":[" + js(t.path("rw")) + "," + js(t.path("only/file.txt")) +
                                   "],\"readonlyPaths\":[" + js(t.path("ro")) + "]}",
                               CeilingOptions{PathStyle::posix, true});
        REQUIRE(c.has_value());
        Capabilities no_files = caps_of();
        no_files.file_grants = false;
        Policy r = request_of(fs_request({t.path("rw/notes.txt"), t.path("only/file.txt"), t.path("ro/readme.txt")},
                                         {t.path("ro/readme.txt")}));
        ClampOutcome out = clamp_ok(r, *c, no_files, ClampOptions::of(PathStyle::posix, true));
        CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{t.path("rw")});
        CHECK(out.policy.filesystem.readonly == std::vector<std::string>{t.path("ro")});
        const ClampDecision& d = decision(out, "/filesystem/readwritePaths/0");
        CHECK(d.verdict == Verdict::narrowed);
        CHECK(d.reason.find("parent-directory grant") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::dropped);  // parent not in the ceiling
        CHECK(decision(out, "/filesystem/readonlyPaths/0").verdict == Verdict::narrowed);
        // With file grants the file itself is granted.
        out = clamp_ok(r, *c, caps_of(), ClampOptions::of(PathStyle::posix, true));
        CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{t.path("rw/notes.txt"), t.path("only/file.txt")});
    }
}

TEST_SUITE("clamp: denials that hold") {
    std::string with_denied(const std::vector<std::string>& rw, const std::vector<std::string>& ro,
                            const std::vector<std::string>& denied) {
        std::string list;
        for (const auto& p : denied) list += (list.empty() ? "" : ",") + js(p);
        std::string base = fs_request(rw, ro);
        return base.substr(0, base.size() - 2) + ",\"deniedPaths\":[" + list + "]}}";
    }

    TEST_CASE("bubblewrap: every parent of a denial inside a writable grant is granted onto itself") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"readwritePaths":["/w"],"readonlyPaths":["/r"]})");
        ClampOutcome out = clamp_ok(request_of(with_denied({"/w", "/w/x/inner"}, {"/r"},
                                                           {"/w/a/b/secret", "/w/x/inner/c/secret", "/r/d/secret"})),
                                    c, caps_of(), lexical(PathStyle::posix));
        // /w/a and /w/a/b become mount points (EBUSY on rename); /w/x is inside /w, /w/x/inner is a
        // grant already and /w/x/inner/c lies inside it; the read-only /r needs nothing.
        CHECK(out.policy.filesystem.readwrite ==
              std::vector<std::string>{"/w", "/w/x/inner", "/w/a/b", "/w/a", "/w/x/inner/c", "/w/x"});
        CHECK(out.policy.filesystem.denied ==
              std::vector<std::string>{"/w/a/b/secret", "/w/x/inner/c/secret", "/r/d/secret"});
        std::size_t pinned = 0;
        for (const auto& d : out.report.decisions)
            if (d.field == "/filesystem/deniedPaths") {
                ++pinned;
                CHECK(d.reason.find("cannot be renamed") != std::string::npos);
            }
        CHECK(pinned == 2);
    }

    TEST_CASE("a grant at or below a denied path is dropped: the executor would mount it over the mask") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"readwritePaths":["/w"],"deniedPaths":["/w/ceil"]})");
        ClampOutcome out = clamp_ok(request_of(with_denied({"/w/a/b", "/w/a", "/w/ceil/x"}, {}, {"/w/a"})), c, caps_of(),
                                    lexical(PathStyle::posix));
        CHECK(out.policy.filesystem.readwrite.empty());
        CHECK(decision(out, "/filesystem/readwritePaths/0").reason.find("re-expose") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::dropped);
        CHECK(decision(out, "/filesystem/readwritePaths/2").reason.find("ceiling-denied /w/ceil") != std::string::npos);
    }

    TEST_CASE("seatbelt denies by path: a denial inside a writable grant is refused, elsewhere kept") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"readwritePaths":["/w"],"readonlyPaths":["/r"]})");
        auto refused = clamp(request_of(with_denied({"/w"}, {}, {"/w/a/secret"})), c, caps_of(Backend::seatbelt),
                             lexical(PathStyle::posix));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == ErrorCode::backend_unsupported);
        CHECK(refused.error().message.find("renaming a parent directory") != std::string::npos);
        ClampOutcome ok = clamp_ok(request_of(with_denied({"/w"}, {"/r"}, {"/r/secret"})), c, caps_of(Backend::seatbelt),
                                   lexical(PathStyle::posix));
        CHECK(ok.policy.filesystem.readwrite == std::vector<std::string>{"/w"});
    }

    TEST_CASE("canonical mode: a denied file with a second hard link is refused") {
        TempTree t;
        std::string secret = t.file("w/secret", "s");
        Ceiling c = *parse_ceiling("{\"readwritePaths\":[" + js(t.path("w")) + "]}");
        auto denied_once = clamp(request_of(with_denied({t.path("w")}, {}, {secret})), c, caps_of(),
                                 ClampOptions::of(PathStyle::posix, true));
        CHECK(denied_once.has_value());
        REQUIRE(::link(secret.c_str(), t.path("w/alias").c_str()) == 0);
        auto out = clamp(request_of(with_denied({t.path("w")}, {}, {secret})), c, caps_of(),
                         ClampOptions::of(PathStyle::posix, true));
        REQUIRE_FALSE(out);
        CHECK(out.error().message.find("2 hard links") != std::string::npos);
        CHECK(out.error().where == "/filesystem/deniedPaths/0");
    }
}

TEST_SUITE("clamp: Unix sockets inside grants") {
    int listening_socket(const std::string& path) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd, 1) == 0);
        return fd;
    }

    TEST_CASE("a socket the ceiling does not name is masked; one it names stays; a socket grant is dropped") {
        TempTree t;
        t.dir("w/sub");
        int a = listening_socket(t.path("w/sub/agent.sock"));
        int b = listening_socket(t.path("w/docker.sock"));
        Ceiling c = *parse_ceiling("{\"readwritePaths\":[" + js(t.path("w")) + "],\"allowedSockets\":[" +
                                   js(t.path("w/docker.sock")) + "]}");
        ClampOptions canonical = ClampOptions::of(PathStyle::posix, true);
        ClampOutcome out = clamp_ok(request_of(fs_request({t.path("w"), t.path("w/sub/agent.sock")}, {})), c, caps_of(),
                                    canonical);
        // w/sub is pinned so the masked socket cannot be renamed out from under its mask.
        CHECK(out.policy.filesystem.readwrite == std::vector<std::string>{t.path("w"), t.path("w/sub")});
        CHECK(out.policy.filesystem.denied == std::vector<std::string>{t.path("w/sub/agent.sock")});
        CHECK(decision(out, "/filesystem/readwritePaths/0").verdict == Verdict::narrowed);
        CHECK(decision(out, "/filesystem/readwritePaths/0").reason.find("masked 1 Unix socket") != std::string::npos);
        CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::dropped);
        CHECK(decision(out, "/filesystem/readwritePaths/1").reason.find("is a Unix socket") != std::string::npos);
        // Control: without sockets the same grant is kept as asked.
        ::close(a);
        ::close(b);
        ::unlink(t.path("w/sub/agent.sock").c_str());
        ::unlink(t.path("w/docker.sock").c_str());
        out = clamp_ok(request_of(fs_request({t.path("w")}, {})), c, caps_of(), canonical);
        CHECK(decision(out, "/filesystem/readwritePaths/0").verdict == Verdict::kept);
        CHECK(out.policy.filesystem.denied.empty());
    }

    TEST_CASE("the search is bounded: an exhausted budget is reported as incomplete") {
        TempTree t;
        for (int i = 0; i < 5; ++i) t.file("d/f" + std::to_string(i));
        std::size_t budget = 3;
        auto scan = detail::find_sockets(t.path("d"), budget);
        CHECK_FALSE(scan.complete);
        budget = 100;
        scan = detail::find_sockets(t.path("d"), budget);
        CHECK(scan.complete);
        CHECK(budget == 95);
    }

    TEST_CASE("overlapping grants: each directory is read once per clamp, and the sockets are the same") {
        TempTree t;
        t.dir("d/sub/deeper");
        for (int i = 0; i < 3; ++i) t.file("d/sub/f" + std::to_string(i));
        int s = listening_socket(t.path("d/sub/deeper/s.sock"));
        detail::DirMemo memo;
        std::size_t budget = 100;
        auto inner = detail::find_sockets(t.path("d/sub"), budget, &memo);
        REQUIRE(inner.complete);
        CHECK(inner.sockets == std::vector<std::string>{t.path("d/sub/deeper/s.sock")});
        CHECK(budget == 95);  // f0 f1 f2 deeper s.sock
        auto outer = detail::find_sockets(t.path("d"), budget, &memo);
        REQUIRE(outer.complete);
        CHECK(outer.sockets == inner.sockets);
        CHECK(budget == 94);  // only `sub`, in d itself: d/sub was read already
        std::size_t fresh = 100;  // control: without the memo d/sub is read again
        CHECK(detail::find_sockets(t.path("d"), fresh).sockets == inner.sockets);
        CHECK(fresh == 94);
        // a grant that is itself a socket, or a file, or nothing: found, nothing, nothing
        CHECK(detail::find_sockets(t.path("d/sub/deeper/s.sock"), budget).sockets ==
              std::vector<std::string>{t.path("d/sub/deeper/s.sock")});
        CHECK(detail::find_sockets(t.path("d/sub/f0"), budget).sockets.empty());
        CHECK(detail::find_sockets(t.path("d/absent"), budget).sockets.empty());
        ::close(s);
    }

    TEST_CASE("a socket below two overlapping grants is masked once, and a grant that is one is still refused") {
        TempTree t;
        t.dir("w/a/b");
        int s = listening_socket(t.path("w/a/b/agent.sock"));
        Ceiling c = *parse_ceiling("{\"readwritePaths\":[" + js(t.path("w")) + "]}");
        ClampOptions canonical = ClampOptions::of(PathStyle::posix, true);
        auto out = clamp_ok(request_of(fs_request({t.path("w/a"), t.path("w"), t.path("w/a/b/agent.sock")}, {})), c,
                            caps_of(), canonical);
        CHECK(out.policy.filesystem.denied == std::vector<std::string>{t.path("w/a/b/agent.sock")});
        CHECK(decision(out, "/filesystem/readwritePaths/0").verdict == Verdict::narrowed);
        CHECK(decision(out, "/filesystem/readwritePaths/1").verdict == Verdict::narrowed);
        CHECK(decision(out, "/filesystem/readwritePaths/2").verdict == Verdict::dropped);
        CHECK(decision(out, "/filesystem/readwritePaths/2").reason.find("is a Unix socket") != std::string::npos);
        ::close(s);
    }
}

TEST_SUITE("clamp: the sandbox's user and its resource limits") {
    TEST_CASE("runAs names an unprivileged user; root is refused; root's default is nobody") {
        CeilingOptions lexical_options{PathStyle::posix, false};
        auto c = parse_ceiling(R"({"runAs":"1234:4321"})", lexical_options);
        REQUIRE(c);
        CHECK(c->run_as == std::optional<RunAs>(RunAs{1234, 4321}));
        for (const char* root : {R"({"runAs":"root"})", R"({"runAs":"0"})", R"({"runAs":"0:5"})", R"({"runAs":"5:0"})",
                                 R"({"runAs":"no-such-user-here"})", R"({"runAs":"12:x"})"}) {
            CAPTURE(root);
            auto bad = parse_ceiling(root, lexical_options);
            REQUIRE_FALSE(bad);
            CHECK(bad.error().where == "/runAs");
        }
        auto nobody = parse_ceiling(R"({"runAs":"nobody"})", lexical_options);
        REQUIRE(nobody);
        REQUIRE(nobody->run_as);
        CHECK(nobody->run_as->uid != 0);
        auto unnamed = parse_ceiling("{}", lexical_options);
        REQUIRE(unnamed);
        CHECK_FALSE(unnamed->run_as.has_value());  // the runner's default then (below)
        if (::geteuid() == 0) CHECK(detail::default_run_as() == nobody->run_as);  // never host root inside
        else CHECK_FALSE(detail::default_run_as().has_value());                   // the caller's own uid
    }

    TEST_CASE("limits: the lower of ceiling (or default) and request; 0 in the ceiling means none") {
        Ceiling c = lexical_ceiling(PathStyle::posix, R"({"runAs":"1234:1234","limits":{"processes":64,"openFiles":0}})");
        Policy r = request_of(fs_request({}, {}));
        ClampOutcome out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.run_as == c.run_as);
        CHECK(out.policy.limits.processes == std::optional<std::uint64_t>(64));
        CHECK_FALSE(out.policy.limits.open_files.has_value());  // explicitly none
        CHECK(out.policy.limits.file_size_bytes == std::optional<std::uint64_t>(std::uint64_t{4} << 30));  // default
        CHECK_FALSE(out.policy.limits.memory_bytes.has_value());

        r.limits.processes = 128;  // above the ceiling: narrowed
        r.limits.open_files = 100;  // the ceiling sets none: the request's stands
        r.limits.cpu_seconds = 0;   // asks for none: the ceiling's (none) stands
        out = clamp_ok(r, c, caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.limits.processes == std::optional<std::uint64_t>(64));
        CHECK(decision(out, "/limits/processes").verdict == Verdict::narrowed);
        CHECK(out.policy.limits.open_files == std::optional<std::uint64_t>(100));
        CHECK(decision(out, "/limits/openFiles").verdict == Verdict::kept);
        CHECK_FALSE(out.policy.limits.cpu_seconds.has_value());

        // Without a sandbox uid of its own (neither named nor root's default), RLIMIT_NPROC would
        // count the caller's other processes: no processes default then.
        Ceiling own_uid = c;
        own_uid.run_as.reset();
        own_uid.limits = {};
        out = clamp_ok(request_of(fs_request({}, {})), own_uid, caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.limits.processes.has_value() == (::geteuid() == 0));
        own_uid.run_as = RunAs{1234, 1234};
        out = clamp_ok(request_of(fs_request({}, {})), own_uid, caps_of(), lexical(PathStyle::posix));
        CHECK(out.policy.limits.processes == std::optional<std::uint64_t>(512));
    }

    TEST_CASE("CORDON_LIMITS and CORDON_RUN_AS") {
        std::map<std::string, std::string> vars{{"CORDON_LIMITS", "processes=32,memoryBytes=1073741824"},
                                                {"CORDON_RUN_AS", "2000:2000"}};
        auto lookup = [&vars](const std::string& n) -> std::optional<std::string> {
            auto it = vars.find(n);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
        auto c = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false}, lookup);
        REQUIRE(c);
        CHECK(c->limits.processes == std::optional<std::uint64_t>(32));
        CHECK(c->limits.memory_bytes == std::optional<std::uint64_t>(1073741824));
        CHECK(c->run_as == std::optional<RunAs>(RunAs{2000, 2000}));
        for (const char* bad : {"procs=1", "processes=-1", "processes", "processes=1,,openFiles=2"}) {
            CAPTURE(bad);
            vars["CORDON_LIMITS"] = bad;
            auto e = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false}, lookup);
            REQUIRE_FALSE(e);
            CHECK(e.error().where == "CORDON_LIMITS");
        }
    }
}
