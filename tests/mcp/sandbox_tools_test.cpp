// SPDX-License-Identifier: MIT
// The real tools' request building and pointer mapping (pure), and the contained scripts' quoting (real sh).
#include <doctest/doctest.h>

#include "sandbox_tools.hpp"
#include "support/run_command.hpp"

using namespace cordon;
using namespace cordon::mcp;

TEST_SUITE("mcp-sandbox-tools") {
    TEST_CASE("request_for builds what cordon run builds; errors name the tool argument") {
        RunCommandArgs a;
        a.argv = {"ls", "-l", "it's here"};
        a.cwd = "/tmp/w";
        a.env = {{"LANG", "C"}, {"X", ""}};
        a.timeout_ms = 500;
        a.network = NetworkChoice::allow;
        a.readonly_paths = {"/usr/share"};
        a.readwrite_paths = {"/tmp/w"};
        auto p = request_for(a);
        REQUIRE(p);
        CHECK(p->process.command_line == "exec 'ls' '-l' 'it'\\''s here'");
        CHECK(p->process.cwd == std::optional<std::string>("/tmp/w"));
        CHECK(p->process.env == std::vector<EnvVar>{{"LANG", std::string("C")}, {"X", std::string()}});
        CHECK(p->process.timeout.wire_value() == 500);
        CHECK(p->effective_egress_default() == EgressDefault::allow);
        CHECK(p->filesystem.readonly == a.readonly_paths);
        CHECK(p->filesystem.readwrite == a.readwrite_paths);

        RunCommandArgs nul;
        nul.argv = {"echo", std::string("a\0b", 3)};
        auto bad = request_for(nul);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().where == "/argv/1");
        RunCommandArgs line;
        line.command = std::string("echo \0", 6);
        REQUIRE_FALSE(request_for(line));
        CHECK(request_for(line).error().where == "/command");
        RunCommandArgs env;
        env.command = "env";
        env.env = {{"A/B", std::string("\0", 1)}};
        CHECK(request_for(env).error().where == "/env/A~1B");
    }

    TEST_CASE("clamp pointers map back to the argument that asked") {
        RunCommandArgs a;
        a.command = "true";
        a.env = {{"HOME", "/x"}, {"LD_PRELOAD", "y"}};
        CHECK(argument_for("/process/commandLine", a) == "/command");
        CHECK(argument_for("/process/cwd", a) == "/cwd");
        CHECK(argument_for("/process/timeout", a) == "/timeout_ms");
        CHECK(argument_for("/process/env/1", a) == "/env/LD_PRELOAD");
        CHECK(argument_for("/process/env/2", a) == "");
        CHECK(argument_for("/network/defaultPolicy", a) == "/network");
        CHECK(argument_for("/filesystem/readwritePaths/3", a) == "/readwrite_paths/3");
        CHECK(argument_for("/filesystem/readonlyPaths/0", a) == "/readonly_paths/0");
        CHECK(argument_for("/filesystem/readonlyPaths/x", a) == "");
        CHECK(argument_for("/containment", a) == "");
        a.command.reset();
        CHECK(argument_for("/process/commandLine", a) == "/argv");

        Policy clamped;
        clamped.filesystem.readwrite = {"/w/a", "/w/b"};
        std::vector<Decision> ds{{"/readwrite_paths/0",
                                  "/filesystem/readwritePaths/0",
                                  "/w",
                                  Verdict::narrowed,
                                  {{"/filesystem/readwritePaths", "/w/a"}, {"/filesystem/readwritePaths", "/w/b"}},
                                  ""},
                                 {"/readwrite_paths/1",
                                  "/filesystem/readwritePaths/1",
                                  "/w/b/",
                                  Verdict::kept,
                                  {{"/filesystem/readwritePaths", "/w/c"}},
                                  ""}};
        CHECK(argument_for_clamped("/filesystem/readwritePaths/1", clamped, ds) == "/readwrite_paths/0");
        CHECK(argument_for_clamped("/filesystem/readwritePaths/5", clamped, ds) == "");
        CHECK(argument_for_clamped("/process/cwd", clamped, ds) == "/cwd");
    }

    TEST_CASE("a contained script sees its arguments exactly, whatever they hold") {
        const std::vector<std::string> hostile{
            "$(touch /tmp/cordon-mcp-pwned)", "a'b\"c", "line\nbreak", "-n", "*", "", "`id`", "\\"};
        auto line = script_command_line("for a in \"$@\"; do printf '[%s]' \"$a\"; done", hostile);
        REQUIRE(line);
        auto r = cordon::test::run_command({"/bin/sh", "-c", *line});
        CHECK(r.exit_code == 0);
        std::string expected;
        for (const auto& h : hostile) expected += "[" + h + "]";
        CHECK(r.out == expected);
        CHECK(::access("/tmp/cordon-mcp-pwned", F_OK) != 0);
    }
}
