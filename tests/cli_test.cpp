// SPDX-License-Identifier: MIT
// The cordon executable, run as a user would: exit codes, output format, no crash on hostile input.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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
        CHECK(r.out.find("FIELD") != std::string::npos);
        CHECK(r.out.find("/filesystem/readwritePaths/0") != std::string::npos);
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
