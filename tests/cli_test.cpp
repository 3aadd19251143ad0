// SPDX-License-Identifier: MIT
// The cordon executable, run as a user would: exit codes, output format, no crash on hostile input.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>
#include <fstream>
#include <string>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/run_command.hpp"

using cordon::test::required_env;
using cordon::test::run_command;
namespace fs = std::filesystem;

namespace {
std::string cordon_exe() { return required_env("CORDON_EXE"); }

fs::path write_temp(const std::string& name, const std::string& text) {
    fs::path p = fs::temp_directory_path() / ("cordon-cli-test-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
}
}  // namespace

TEST_SUITE("cli") {
    TEST_CASE("--version and --help") {
        auto r = run_command({cordon_exe(), "--version"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("cordon 0.", 0) == 0);
        r = run_command({cordon_exe(), "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("check") != std::string::npos);
        r = run_command({cordon_exe(), "check", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Example") != std::string::npos);
    }

    TEST_CASE("usage errors exit 2") {
        CHECK(run_command({cordon_exe()}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "frobnicate"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "check"}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "check", "--bogus", "x"}).exit_code == 2);
    }

    TEST_CASE("top-level usage errors: text on stderr, or JSON on stdout with --json anywhere") {
        auto r = run_command({cordon_exe(), "frobnicate"});
        CHECK(r.exit_code == 2);
        CHECK(r.err == "cordon: unknown command 'frobnicate'\nTry 'cordon --help'.\n");
        CHECK(r.out.empty());
        r = run_command({cordon_exe(), "frobnicate", "--json"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.empty());
        CHECK(r.out == R"({"error":{"code":"usage","message":"unknown command 'frobnicate'"},"cordon_exit":2})" "\n");
        r = run_command({cordon_exe(), "--json"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.empty());
        CHECK(r.out.find(R"({"error":{"code":"usage","message":"expected a command before '--json')") == 0);
        r = run_command({cordon_exe(), "--bogus"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("cordon: expected a command before '--bogus'") == 0);
    }

    TEST_CASE("check: valid file exits 0, invalid exits 1 with POINTER: message lines") {
        auto good = write_temp("good.json", R"({"version":"0.6.0-alpha","process":{"commandLine":"true"}})");
        auto r = run_command({cordon_exe(), "check", good.string()});
        CHECK(r.exit_code == 0);
        CHECK(r.out == good.string() + ": valid\n");

        auto bad = write_temp("bad.json", R"({"version":"0.6.0-alpha","process":{"commandLine":"x","timeout":-1},"x":1})");
        r = run_command({cordon_exe(), "check", bad.string()});
        CHECK(r.exit_code == 1);
        CHECK(r.out.find(bad.string() + ": /process/timeout: expected an integer from 0 to 4294967295") !=
              std::string::npos);
        CHECK(r.out.find(bad.string() + ": /x: unknown field `x`") != std::string::npos);
        fs::remove(good);
        fs::remove(bad);
    }

    TEST_CASE("check --sdk: as strictly as one executor; --contract: one contract; development contracts refused") {
        const std::string legacy = R"({"version":"0.6.0-alpha","process":{"commandLine":"true"}})";
        const std::string v100 = R"({"version":"1.0.0","process":{"commandLine":"true"},"network":{"egress":{"default":"deny"}}})";
        CHECK(run_command({cordon_exe(), "check", "-"}, legacy).exit_code == 0);  // some pinned executor takes each
        CHECK(run_command({cordon_exe(), "check", "-"}, v100).exit_code == 0);
        CHECK(run_command({cordon_exe(), "check", "--sdk", "0.9.0", "-"}, legacy).exit_code == 0);
        auto r = run_command({cordon_exe(), "check", "--sdk", "1.0.1", "-"}, legacy);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("<stdin>: /version: contract \"0.6.0-alpha\" is not accepted here: executor SDK 1.0.1 accepts") !=
              std::string::npos);
        CHECK(run_command({cordon_exe(), "check", "--sdk", "0.9.0", "-"}, v100).exit_code == 1);
        CHECK(run_command({cordon_exe(), "check", "--contract", "1.0.0", "-"}, v100).exit_code == 0);
        CHECK(run_command({cordon_exe(), "check", "--contract", "1.0.0", "-"}, legacy).exit_code == 1);
        r = run_command({cordon_exe(), "check", "-"}, R"({"version":"1.1.0-alpha","process":{"commandLine":"true"}})");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("development contract") != std::string::npos);
        CHECK(run_command({cordon_exe(), "check", "--sdk", "9.9.9", "-"}, legacy).exit_code == 2);
        CHECK(run_command({cordon_exe(), "check", "--contract", "0.10.0-alpha", "-"}, legacy).exit_code == 2);
        CHECK(run_command({cordon_exe(), "check", "--sdk"}).exit_code == 2);
    }

    TEST_CASE("check reads standard input with -") {
        auto r = run_command({cordon_exe(), "check", "-"}, R"({"version":"0.6.0-alpha","process":{"commandLine":""}})");
        CHECK(r.exit_code == 1);
        CHECK(r.out == "<stdin>: /process/commandLine: must not be empty\n");
    }

    TEST_CASE("check: missing file and garbage never crash") {
        auto r = run_command({cordon_exe(), "check", "/nonexistent/cordon.json"});
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("cannot open") != std::string::npos);
        std::string garbage;
        for (int i = 0; i < 5000; ++i) garbage += static_cast<char>((i * 131) % 256);
        r = run_command({cordon_exe(), "check", "-"}, garbage);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("invalid JSON") != std::string::npos);
        r = run_command({cordon_exe(), "check", "-"}, std::string(100000, '['));
        CHECK(r.exit_code == 1);
    }

    TEST_CASE("explain prints the clamp decisions as a table; refusals exit 1, usage 2") {
        auto ceiling = write_temp("ceiling.json", R"({"readonlyPaths":["C:\\Users\\me\\Documents"],
                                                       "readwritePaths":["C:\\work"],"timeout":30000})");
        auto request = write_temp("request.json", R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},
            "filesystem":{"readwritePaths":["c:\\WORK\\src","C:\\Users\\me\\Documents","C:\\Windows"]}})");
        auto r = run_command({cordon_exe(), "explain", "--ceiling", ceiling.string(), "--backend", "processcontainer",
                              "--style", "windows", "--no-canonical", request.string()});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("kept        /filesystem/readwritePaths/0\n") != std::string::npos);
        CHECK(r.out.find("downgraded") != std::string::npos);  // Documents: read-only in the ceiling
        CHECK(r.out.find("dropped") != std::string::npos);     // C:\Windows
        CHECK(r.out.find("1 downgraded") != std::string::npos);

        auto hosts = write_temp("hosts.json", R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},
            "network":{"defaultPolicy":"allow","allowedHosts":["example.com"]}})");
        auto open = write_temp("open.json", R"({"network":{"defaultPolicy":"allow"}})");
        r = run_command({cordon_exe(), "explain", "--ceiling", open.string(), "--backend", "bubblewrap", hosts.string()});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("backend-unsupported") != std::string::npos);
        CHECK(run_command({cordon_exe(), "explain", request.string()}).exit_code == 2);
        CHECK(run_command({cordon_exe(), "explain", "--help"}).out.find("Example") != std::string::npos);
        for (const auto& f : {ceiling, request, hosts, open}) fs::remove(f);
    }
}

// One parser (CLI11) for every subcommand: a single-value option given twice is refused (a wrapper
// that appends untrusted arguments must not replace the operator's), --opt=value works everywhere,
// and the documented exit code of a usage error is kept (cordon run: 125).
TEST_SUITE("cli-options") {
    TEST_CASE("a repeated single-value option is a usage error in every command") {
        auto ceiling = write_temp("dup-ceiling.json", R"({"readwritePaths":["/tmp"]})");
        auto other = write_temp("dup-other.json", R"({"readwritePaths":["/"]})");
        struct Case { std::vector<std::string> args; int status; std::string option; };
        const Case cases[] = {
            {{"clamp", "--ceiling", ceiling.string(), "--ceiling", other.string(), "-"}, 2, "--ceiling"},
            {{"explain", "--ceiling=" + ceiling.string(), "--ceiling", other.string(), "-"}, 2, "--ceiling"},
            {{"clamp", "--ceiling-env", "--ceiling-env=X_", "-"}, 2, "--ceiling-env"},
            {{"clamp", "--ceiling", ceiling.string(), "--backend", "bubblewrap", "--backend=seatbelt", "-"}, 2, "--backend"},
            {{"run", "--ceiling", ceiling.string(), "--ceiling", other.string(), "--", "true"}, 125, "--ceiling"},
            {{"run", "--timeout", "10", "--timeout=20", "--", "true"}, 125, "--timeout"},
            {{"run", "--cwd", "/tmp", "--cwd", "/", "--", "true"}, 125, "--cwd"},
            {{"verify", "--sdk", "0.9.0", "--sdk", "0.7.0"}, 2, "--sdk"},
            {{"verify", "--executor", "/a", "--executor=/b"}, 2, "--executor"},
            {{"probe", "--executor", "/a", "--executor", "/b"}, 2, "--executor"},
            {{"mcp", "--ceiling", ceiling.string(), "--ceiling", other.string()}, 2, "--ceiling"},
        };
        for (const auto& c : cases) {
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), c.args.begin(), c.args.end());
            auto r = run_command(argv);
            CAPTURE(c.args[0]);
            CAPTURE(c.option);
            INFO(r.err);
            CHECK(r.exit_code == c.status);
            CHECK(r.err.find(c.option + " is given 2 times") != std::string::npos);
            CHECK(r.out.empty());
        }
        fs::remove(ceiling);
        fs::remove(other);
    }

    TEST_CASE("repeatable options take one value per occurrence; flags take none") {
        // --ro a b would be two grants to a parser that lets a list option run on: here b is an operand.
        auto r = run_command({cordon_exe(), "run", "--ro", "/a", "/b", "--", "true"});
        CHECK(r.exit_code == 125);
        CHECK(r.err.find("unexpected argument '/b'") != std::string::npos);
        r = run_command({cordon_exe(), "run", "--dry-run=false", "--", "true"});
        CHECK(r.exit_code == 125);
        CHECK(r.err.find("Try 'cordon run --help'") != std::string::npos);
        r = run_command({cordon_exe(), "clamp", "--no-canonical=yes", "--ceiling-env", "-"});
        CHECK(r.exit_code == 2);
        // Any value, `=true` too (CLI11 alone reads --flag=true as the flag), on every command,
        // with the exit status of that command's usage errors, naming the option with its dashes.
        struct Case { std::vector<std::string> args; int status; std::string says; };
        const Case flags[] = {
            {{"run", "--dry-run=false", "--", "true"}, 125, "--dry-run takes no value"},
            {{"run", "--dry-run=true", "--", "true"}, 125, "--dry-run takes no value"},
            {{"run", "--strict=true", "--", "true"}, 125, "--strict takes no value"},
            {{"run", "--quiet=", "--", "true"}, 125, "--quiet takes no value"},
            {{"clamp", "--no-canonical=true", "--ceiling-env", "-"}, 2, "--no-canonical takes no value"},
            {{"check", "--help=no", "-"}, 2, "--help takes no value"},
            {{"setup", "--print-env=1"}, 2, "--print-env takes no value"},
        };
        for (const auto& c : flags) {
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), c.args.begin(), c.args.end());
            r = run_command(argv, "", {"CORDON_MXC_CACHE=/nonexistent"});
            CAPTURE(c.args[1]);
            INFO(r.err);
            CHECK(r.exit_code == c.status);
            CHECK(r.err.find("cordon " + c.args[0] + ": " + c.says + "\nTry 'cordon " + c.args[0] + " --help'") == 0);
            CHECK(r.out.empty());
        }
        // --json=true asked for JSON: the usage error is JSON, on stdout, and nothing runs.
        for (const auto& [args, status] : std::vector<std::pair<std::vector<std::string>, int>>{
                 {{"run", "--json=true", "--", "echo", "hi"}, 125}, {{"check", "--json=yes", "-"}, 2}}) {
            const std::string& command = args[0];  // CAPTURE's lambda cannot capture a structured binding
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), args.begin(), args.end());
            r = run_command(argv);
            CAPTURE(command);
            CHECK(r.exit_code == status);
            CHECK(r.err.empty());
            CHECK(r.out.find(R"({"error":{"code":"usage","message":"--json takes no value"},"cordon_exit":)" +
                             std::to_string(status) + "}") == 0);
            CHECK(r.out.find("hi") == std::string::npos);
        }
    }

    TEST_CASE("--opt=value is accepted by every command") {
        auto ceiling = write_temp("eq-ceiling.json", R"({"readwritePaths":["C:\\work"]})");
        auto r = run_command({cordon_exe(), "clamp", "--ceiling=" + ceiling.string(), "--backend=processcontainer",
                              "--style=windows", "--no-canonical", "--sdk=0.9.0", "-"},
                             R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},"filesystem":{"readwritePaths":["C:\\work\\a"]}})");
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find(R"(C:\\work\\a)") != std::string::npos);
        r = run_command({cordon_exe(), "explain", "--ceiling=" + ceiling.string(), "--backend=processcontainer",
                         "--style=windows", "--no-canonical", "-"},
                        R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"}})");
        CHECK(r.exit_code == 0);
        r = run_command({cordon_exe(), "verify", "--executor=/nonexistent/lxc-exec", "--platform=linux", "--arch=amd64"});
        CHECK(r.exit_code == 3);
        CHECK(r.err.find("/nonexistent/lxc-exec") != std::string::npos);
        r = run_command({cordon_exe(), "probe", "--executor=/nonexistent/lxc-exec"});
        CHECK(r.exit_code == 3);
        r = run_command({cordon_exe(), "mcp", "--ceiling=/nonexistent/ceiling.json", "--log-level=error"});
        CHECK(r.exit_code == 125);  // parsed; the ceiling then cannot be read
        CHECK(r.err.find("/nonexistent/ceiling.json") != std::string::npos);
        auto bad = write_temp("eq-bad-ceiling.json", R"({"readwritePaths":"not a list"})");
        r = run_command({cordon_exe(), "run", "--ceiling=" + bad.string(), "--timeout=5", "--network=block",
                         "--stdin=null", "--output-limit=10", "--", "true"});
        CHECK(r.exit_code == 125);  // parsed; the ceiling is then invalid
        CHECK(r.err.find(bad.string() + ": /readwritePaths") != std::string::npos);
        fs::remove(bad);
        fs::remove(ceiling);
    }

    TEST_CASE("values are checked by the parser, in decimal, naming the option; exit codes as documented") {
        struct Case { std::vector<std::string> args; int status; std::string says; };
        const Case cases[] = {
            {{"run", "--timeout", "30s", "--", "true"}, 125, "--timeout: expected a whole number from 0 to 4294967295, not '30s'"},
            {{"run", "--timeout", "0x10", "--", "true"}, 125, "not '0x10'"},
            {{"run", "--timeout", "4294967296", "--", "true"}, 125, "--timeout"},
            {{"run", "--output-limit", "-1", "--", "true"}, 125, "--output-limit"},
            {{"run", "--network", "sideways", "--", "true"}, 125, "--network: expected block or allow, not 'sideways'"},
            {{"run", "--stdin", "tty", "--", "true"}, 125, "--stdin: expected auto, pass or null"},
            {{"run", "--bogus", "--", "true"}, 125, "unknown option '--bogus' (the command goes after --)"},
            {{"run", "--ceiling"}, 125, "--ceiling"},
            {{"run", "--rw", "/tmp"}, 125, "no command: give it after --"},
            {{"clamp", "--style", "dos", "--ceiling-env", "-"}, 2, "--style: expected posix or windows, not 'dos'"},
            {{"clamp", "--backend", "nope", "--ceiling-env", "-"}, 2, "--backend: expected bubblewrap, processcontainer or seatbelt"},
            {{"clamp", "--ceiling-env=lower", "-"}, 2, "--ceiling-env: expected a variable prefix"},
            {{"clamp", "--ceiling-env", "a.json", "b.json"}, 2, "unexpected argument 'b.json'"},
            {{"verify", "--platform", "beos"}, 2, "--platform: expected linux, win32 or darwin"},
            {{"verify", "--arch", "i686"}, 2, "--arch"},
            {{"verify", "stray"}, 2, "unexpected argument 'stray'"},
            {{"mcp", "--max-concurrency", "0"}, 2, "--max-concurrency: expected a whole number from 1 to 256, not '0'"},
            {{"mcp", "--log-level", "loud"}, 2, "--log-level"},
            {{"probe", "--bogus"}, 2, "unknown option '--bogus'"},
            {{"check", "--bogus", "x"}, 2, "unknown option '--bogus'"},
        };
        for (const auto& c : cases) {
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), c.args.begin(), c.args.end());
            auto r = run_command(argv);
            CAPTURE(c.says);
            INFO(r.err);
            CHECK(r.exit_code == c.status);
            CHECK(r.err.find(c.says) != std::string::npos);
        }
    }

    TEST_CASE("--ceiling-env PREFIX takes the next word only when it is a prefix and not the request") {
        const std::string request = R"({"version":"0.6.0-alpha","process":{"commandLine":"true"},"filesystem":{"readwritePaths":["/tmp/x"]}})";
        auto r = run_command({cordon_exe(), "clamp", "--ceiling-env", "MYCEIL_", "-"}, request,
                             {"MYCEIL_READWRITE_PATHS=/tmp"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("/tmp/x") != std::string::npos);
        // The last word is the operand even when it looks like a prefix: the request file MYCEIL_.
        r = run_command({cordon_exe(), "clamp", "--ceiling-env", "MYCEIL_"}, "", {"CORDON_READWRITE_PATHS=/tmp"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("MYCEIL_: cannot open the file") != std::string::npos);
    }
}

// --json on every command: the result, or the error, as one JSON object on stdout (nothing on
// stderr), with "cordon_exit" equal to the exit status, which is the same as without --json.
TEST_SUITE("cli-json") {
    boost::json::value json_of(const cordon::test::CommandResult& r) {
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(!r.out.empty());
        CHECK(r.out.find('\n') == r.out.size() - 1);  // one line
        boost::json::value v = boost::json::parse(r.out);
        CHECK(v.at("cordon_exit").as_int64() == r.exit_code);
        return v;
    }

    TEST_CASE("check --json: one entry per file") {
        auto good = write_temp("j-good.json", R"({"version":"0.6.0-alpha","process":{"commandLine":"true"}})");
        auto bad = write_temp("j-bad.json", R"({"version":"0.6.0-alpha","process":{"commandLine":""}})");
        auto r = run_command({cordon_exe(), "check", "--json", good.string(), bad.string(), "/nonexistent/x.json"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.empty());
        auto v = json_of(r);
        const auto& files = v.at("files").as_array();
        REQUIRE(files.size() == 3);
        CHECK(files[0].at("valid") == true);
        CHECK(files[1].at("valid") == false);
        CHECK(files[1].at("violations").at(0).at("pointer") == "/process/commandLine");
        CHECK(files[2].at("error").at("code") == "io-error");
        r = run_command({cordon_exe(), "check", "--json"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.empty());
        CHECK(json_of(r).at("error").at("code") == "usage");
        fs::remove(good);
        fs::remove(bad);
    }

    TEST_CASE("clamp and explain --json: config and report, or the refusal") {
        auto ceiling = write_temp("j-ceiling.json", R"({"readwritePaths":["C:\\work"],"network":{"defaultPolicy":"allow"}})");
        const std::vector<std::string> windows{"--backend", "processcontainer", "--style", "windows", "--no-canonical"};
        auto with = [&](std::vector<std::string> args) {
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), args.begin(), args.end());
            argv.insert(argv.end(), windows.begin(), windows.end());
            argv.insert(argv.end(), {"--ceiling", ceiling.string(), "--json", "-"});
            return argv;
        };
        const std::string request = R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},"filesystem":{"readwritePaths":["C:\\work\\a","C:\\Windows"]}})";
        auto r = run_command(with({"clamp"}), request);
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());  // the report is in the object, not on stderr
        auto v = json_of(r);
        CHECK(v.at("config").at("filesystem").at("readwritePaths").at(0) == "C:\\work\\a");
        CHECK(v.at("report").at("summary").at("dropped") == 1);
        r = run_command(with({"explain"}), request);
        CHECK(r.exit_code == 0);
        v = json_of(r);
        CHECK(v.at("ceiling") == ceiling.string().c_str());
        CHECK(v.at("report").at("decisions").at(1).at("field") == "/filesystem/readwritePaths/1");
        CHECK(v.at("report").at("decisions").at(1).at("verdict") == "dropped");
        r = run_command(with({"clamp"}), R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},"network":{"defaultPolicy":"allow","allowedHosts":["example.com"]}})");
        CHECK(r.exit_code == 1);
        CHECK(r.err.empty());
        CHECK(json_of(r).at("error").at("code") == "backend-unsupported");
        r = run_command(with({"explain"}), "{");
        CHECK(r.exit_code == 2);
        CHECK(json_of(r).at("error").at("where").as_string().find("<stdin>") == 0);
        fs::remove(ceiling);
    }

    TEST_CASE("verify, probe, run, mcp and setup --json: errors as objects, the same exit status") {
        auto fake = write_temp("j-lxc-exec", "#!/bin/sh\n");
        fs::permissions(fake, fs::perms::owner_all);
        struct Case { std::vector<std::string> args; int status; std::string code; };
        const Case cases[] = {
            {{"verify", "--json", "--executor", "/nonexistent/lxc-exec"}, 3, "unavailable"},
            {{"verify", "--json", "--executor", fake.string()}, 1, "untrusted-executor"},
            {{"verify", "--json", "--sdk"}, 2, "usage"},
            {{"probe", "--json", "--executor", "/nonexistent/lxc-exec"}, 3, "unavailable"},
            {{"run", "--json", "--bogus", "--", "true"}, 125, "usage"},
            {{"run", "--json", "--", "true"}, 125, "invalid-policy"},  // no ceiling
            {{"mcp", "--json", "--max-queued", "x"}, 2, "usage"},
            {{"mcp", "--json"}, 125, "invalid-policy"},
            {{"setup", "--json", "--sdk", "0.0.1"}, 1, "unavailable"},
        };
        for (const auto& c : cases) {
            std::vector<std::string> argv{cordon_exe()};
            argv.insert(argv.end(), c.args.begin(), c.args.end());
            auto r = run_command(argv, "", {"CORDON_MXC_CACHE=/nonexistent"});
            CAPTURE(c.args[0]);
            CAPTURE(c.code);
            CHECK(r.exit_code == c.status);
            CHECK(r.err.empty());
            auto v = json_of(r);
            CHECK(v.at("error").at("code") == c.code.c_str());
        }
        auto r = run_command({cordon_exe(), "verify", "--executor", fake.string()});
        CHECK(r.exit_code == 1);  // without --json the error is on stderr, not stdout
        CHECK(r.err.find("cordon verify: untrusted-executor: ") == 0);
        CHECK(r.out.find("untrusted") == std::string::npos);
        fs::remove(fake);
    }
}

// Messages (issue 14, point 8): one colon per level, "is a directory" with the system's words, a
// narrow explain table that also shows a refusal, and check's warning about paths clamp drops.
TEST_SUITE("cli-messages") {
    TEST_CASE("an invalid request file: FILE: message, without an empty pointer") {
        auto bad = write_temp("m-bad.json", "{bad");
        auto r = run_command({cordon_exe(), "clamp", "--ceiling-env", bad.string()}, "", {"CORDON_READWRITE_PATHS=/tmp"});
        CHECK(r.exit_code == 2);
        CHECK(r.err == "cordon clamp: invalid-policy: " + bad.string() + ": invalid JSON at line 1 column 2: syntax error\n");
        CHECK(r.err.find(": : ") == std::string::npos);
        fs::remove(bad);
    }

    TEST_CASE("a directory named as a file: is a directory, with the errno text") {
        const fs::path dir = fs::temp_directory_path() / ("cordon-cli-dir-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        auto r = run_command({cordon_exe(), "check", dir.string()});
        CHECK(r.exit_code == 1);
        CHECK(r.out == dir.string() + ": the file is a directory (Is a directory), not a regular file\n");
        r = run_command({cordon_exe(), "clamp", "--ceiling", dir.string(), "-"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("the ceiling file is a directory (Is a directory)") != std::string::npos);
        fs::remove(dir);
    }

    TEST_CASE("explain: a block per decision within 80 columns; a refused clamp shows what refused it") {
        const std::string root = required_env("CORDON_SOURCE_DIR");
        auto r = run_command({cordon_exe(), "explain", "--ceiling", root + "/examples/ceilings/workstation.json",
                              root + "/examples/requests/agent-build.json"});
        CHECK(r.exit_code == 0);
        std::size_t widest = 0, at = 0;
        for (std::size_t nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) widest = std::max(widest, nl - at);
        CHECK(widest <= 80);
        CHECK(r.out.find("dropped     /filesystem/readonlyPaths/0\n              asked  /etc\n"
                         "              why    outside every ceiling root\n") != std::string::npos);
        auto open = write_temp("m-open.json", R"({"network":{"defaultPolicy":"allow"}})");
        r = run_command({cordon_exe(), "explain", "--ceiling", open.string(), "-"},
                        R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"network":{"defaultPolicy":"allow","allowedHosts":["example.com"]}})");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("REFUSED     /network\n") != std::string::npos);
        CHECK(r.out.find("why    backend-unsupported: backend bubblewrap") != std::string::npos);
        CHECK(r.err.find("cordon explain: backend-unsupported: /network: ") == 0);
        fs::remove(open);
    }

    TEST_CASE("explain and clamp report only fields the request set: no inheritDefaultEnv a 1.0 request did not name") {
        // Without `env` a 1.0 request means the backend's default environment; the model holds that
        // as inheritDefaultEnv, which the ceiling (no env allow-list) then drops. The request never
        // said inheritDefaultEnv, so the report speaks of its absent env (still a drop: the sandbox
        // loses PATH and TERM); a request that says inheritDefaultEnv is told of that field.
        auto ceiling = write_temp("m-env-ceiling.json", R"({"readonlyPaths":["/usr"]})");
        const std::string implied = R"({"version":"1.0.0","process":{"commandLine":"make"},"filesystem":{"readonlyPaths":["/usr"]}})";
        auto r = run_command({cordon_exe(), "explain", "--ceiling", ceiling.string(), "-"}, implied);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("inheritDefaultEnv") == std::string::npos);
        CHECK(r.out.find("kept        /filesystem/readonlyPaths/0") != std::string::npos);
        CHECK(r.out.find("dropped     /process/env\n              asked  absent: the backend's default environment\n") !=
              std::string::npos);
        CHECK(r.out.find(", 1 dropped\n") != std::string::npos);
        r = run_command({cordon_exe(), "clamp", "--json", "--ceiling", ceiling.string(), "-"}, implied);
        CHECK(r.exit_code == 0);
        auto v = boost::json::parse(r.out);
        CHECK(boost::json::serialize(v.at("report")).find("inheritDefaultEnv") == std::string::npos);
        CHECK(v.at("report").at("summary").at("dropped").to_number<std::int64_t>() == 1);
        r = run_command({cordon_exe(), "explain", "--ceiling", ceiling.string(), "-"},
                        R"({"version":"1.0.0","process":{"commandLine":"make","inheritDefaultEnv":true}})");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("dropped     /process/inheritDefaultEnv\n              asked  true\n") != std::string::npos);
        fs::remove(ceiling);
    }

    TEST_CASE("check warns about relative paths and a relative cwd, which clamp drops; still valid") {
        const std::string config = R"({"version":"0.6.0-alpha","process":{"commandLine":"make","cwd":"src"},)"
                                   R"("filesystem":{"readwritePaths":["src","/abs"],"readonlyPaths":["~/docs"]}})";
        auto r = run_command({cordon_exe(), "check", "-"}, config);
        CHECK(r.exit_code == 0);
        CHECK(r.out == "<stdin>: warning: /filesystem/readwritePaths/0: \"src\": relative path: an absolute path is "
                       "required; cordon clamp and cordon run drop it\n"
                       "<stdin>: warning: /process/cwd: \"src\": relative path: an absolute path is required; cordon "
                       "clamp and cordon run drop it\n"
                       "<stdin>: valid\n");
        r = run_command({cordon_exe(), "check", "--json", "-"}, config);
        CHECK(r.exit_code == 0);
        auto v = boost::json::parse(r.out);
        CHECK(v.at("files").at(0).at("warnings").as_array().size() == 2);
        // A Windows config is judged by Windows rules: C:\work is absolute there.
        r = run_command({cordon_exe(), "check", "-"},
                        R"({"version":"0.6.0-alpha","containment":"processcontainer","process":{"commandLine":"dir"},)"
                        R"("filesystem":{"readwritePaths":["C:\\work","work"]}})");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("readwritePaths/1: \"work\"") != std::string::npos);
        CHECK(r.out.find("readwritePaths/0") == std::string::npos);
    }
}

// Issue 14, point 10: every report names its ceiling; the system ceiling is used only when root
// owns it and nobody else can change it; the preset ceilings load and bound what they should.
TEST_SUITE("cli-ceilings") {
    const std::string any_request = R"({"version":"0.6.0-alpha","process":{"commandLine":"true"},"filesystem":{"readwritePaths":["/tmp/x"]}})";

    TEST_CASE("every report names the ceiling it was clamped to") {
        auto ceiling = write_temp("c-named.json", R"({"readwritePaths":["/tmp"]})");
        auto r = run_command({cordon_exe(), "clamp", "--ceiling", ceiling.string(), "-"}, any_request);
        CHECK(r.exit_code == 0);
        CHECK(boost::json::parse(r.err).at("ceiling") == ceiling.string().c_str());
        r = run_command({cordon_exe(), "clamp", "--ceiling-env", "-"}, any_request, {"CORDON_READWRITE_PATHS=/tmp"});
        CHECK(boost::json::parse(r.err).at("ceiling") == "environment CORDON_*");
        r = run_command({cordon_exe(), "explain", "--ceiling", ceiling.string(), "-"}, any_request);
        CHECK(r.out.find("ceiling: " + ceiling.string() + "\n") == 0);
        fs::remove(ceiling);
    }

    TEST_CASE("the system ceiling: used only when root owns it and nobody else can write it") {
        const fs::path dir = fs::temp_directory_path() / ("cordon-system-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms(0755));
        const fs::path file = dir / "ceiling.json";
        std::ofstream(file) << R"({"readwritePaths":["/tmp"]})";
        fs::permissions(file, fs::perms(0644));
        const std::vector<std::string> env{"CORDON_SYSTEM_CEILING=" + file.string()};
        auto clamp_system = [&] { return run_command({cordon_exe(), "clamp", "-"}, any_request, env); };
        if (::geteuid() != 0) {  // a file of ours is not a system file
            auto r = clamp_system();
            CHECK(r.exit_code == 2);
            CHECK(r.err.find("system ceiling is owned by uid " + std::to_string(::geteuid()) + ", not root") !=
                  std::string::npos);
            fs::remove_all(dir);
            return;
        }
        auto r = clamp_system();  // no --ceiling, no --ceiling-env: the system ceiling
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(boost::json::parse(r.err).at("ceiling") == file.string().c_str());  // named in the report
        r = run_command({cordon_exe(), "explain", "-"}, any_request, env);
        CHECK(r.out.find("ceiling: " + file.string() + "\n") == 0);
        auto mine = write_temp("c-explicit.json", R"({"readwritePaths":["/tmp"]})");
        r = run_command({cordon_exe(), "clamp", "--ceiling", mine.string(), "-"}, any_request, env);
        CHECK(boost::json::parse(r.err).at("ceiling") == mine.string().c_str());  // an explicit one wins
        fs::remove(mine);
        struct Unsafe { std::function<void()> make, undo; std::string says; };
        const Unsafe unsafe[] = {
            {[&] { fs::permissions(file, fs::perms(0664)); }, [&] { fs::permissions(file, fs::perms(0644)); },
             "is writable by its group or by others"},
            {[&] { fs::permissions(dir, fs::perms(0777)); }, [&] { fs::permissions(dir, fs::perms(0755)); },
             "directory " + dir.string() + " is writable by its group or by others"},
            {[&] { REQUIRE(::chown(file.c_str(), 65534, 65534) == 0); }, [&] { REQUIRE(::chown(file.c_str(), 0, 0) == 0); },
             "owned by uid 65534"},
            {[&] { fs::create_hard_link(file, dir / "second-name"); }, [&] { fs::remove(dir / "second-name"); },
             "2 hard links"},
        };
        for (const auto& u : unsafe) {
            CAPTURE(u.says);
            u.make();
            r = clamp_system();
            CHECK(r.exit_code == 2);  // refused, never skipped for another source
            CHECK(r.err.find(file.string()) != std::string::npos);
            CHECK(r.err.find(u.says) != std::string::npos);
            u.undo();
        }
        // A root-owned file named through a directory someone else controls is not a system file.
        const fs::path theirs = fs::temp_directory_path() / ("cordon-system-link-" + std::to_string(::getpid()));
        fs::create_directories(theirs);
        REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
        fs::create_symlink(file, theirs / "ceiling.json");
        r = run_command({cordon_exe(), "clamp", "-"}, any_request, {"CORDON_SYSTEM_CEILING=" + (theirs / "ceiling.json").string()});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("directory " + theirs.string() + " is owned by uid 65534") != std::string::npos);
        fs::remove_all(theirs);
        r = run_command({cordon_exe(), "clamp", "-"}, any_request, {"CORDON_SYSTEM_CEILING=" + (dir / "absent.json").string()});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("install a system ceiling at " + (dir / "absent.json").string()) != std::string::npos);
        fs::remove_all(dir);
    }

    TEST_CASE("the presets load and bound their jobs (paths under ~, expanded at load)") {
        const std::string root = required_env("CORDON_SOURCE_DIR");
        const fs::path home = fs::temp_directory_path() / ("cordon-preset-home-" + std::to_string(::getpid()));
        fs::create_directories(home / "src" / "proj");
        const std::string src = (home / "src").string(), proj = (home / "src" / "proj").string();
        auto clamp_with = [&](const std::string& preset, const std::string& fs_json, const std::string& env_json) {
            const std::string request = R"({"version":"0.6.0-alpha","process":{"commandLine":"x","env":)" + env_json +
                                        R"(},"filesystem":)" + fs_json + "}";
            auto r = run_command({cordon_exe(), "clamp", "--ceiling", root + "/presets/" + preset, "-"}, request,
                                 {"HOME=" + home.string()});
            INFO(preset << ": " << r.err);
            REQUIRE(r.exit_code == 0);
            return boost::json::parse(r.err);
        };
        auto verdict = [](const boost::json::value& report, const char* field) {
            for (const auto& d : report.at("decisions").as_array())
                if (d.at("field") == field) return std::string(d.at("verdict").as_string());
            return std::string("(none)");
        };
        const std::string rw = R"({"readwritePaths":[")" + proj + R"(","/etc","/"]})";
        for (const char* preset : {"python-project.json", "node-project.json", "build-with-cache.json"}) {
            auto report = clamp_with(preset, rw, "[]");
            CHECK(verdict(report, "/filesystem/readwritePaths/0") == "kept");     // a project under ~/src
            CHECK(verdict(report, "/filesystem/readwritePaths/1") == "dropped");  // never /etc
            CHECK(verdict(report, "/filesystem/readwritePaths/2") == "narrowed"); // / becomes the preset's roots
        }
        auto git = clamp_with("git-readonly.json", rw, "[]");
        CHECK(verdict(git, "/filesystem/readwritePaths/0") == "downgraded");  // read-only git: nothing writable
        auto py = clamp_with("python-project.json", "{}", R"(["VIRTUAL_ENV=/v","PYTHONPATH=/evil","LANG=C"])");
        CHECK(verdict(py, "/process/env/0") == "kept");
        CHECK(verdict(py, "/process/env/1") == "dropped");  // an interpreter's code path: never through a preset
        CHECK(verdict(py, "/process/env/2") == "kept");
        auto node = clamp_with("node-project.json", "{}", R"(["NODE_ENV=test","NODE_OPTIONS=--require /evil"])");
        CHECK(verdict(node, "/process/env/0") == "kept");
        CHECK(verdict(node, "/process/env/1") == "dropped");
        fs::remove_all(home);
    }
}

TEST_CASE("--ceiling-env= with nothing after it is refused, not read as the default prefix") {
    auto r = run_command({cordon_exe(), "clamp", "--ceiling-env=", "-"}, "", {"NETWORK=allow"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cordon clamp: --ceiling-env=: expected a variable prefix such as CORDON_") == 0);
    CHECK(r.err.find("must end in '_'") != std::string::npos);
}
