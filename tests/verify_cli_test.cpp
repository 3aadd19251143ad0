// SPDX-License-Identifier: MIT
// `cordon verify` run as a user would: exit 1 untrusted, 3 unavailable, 2 usage (exit 0 needs the
// real executor and is checked by executor_real_test).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "cordon/arch.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/pins.hpp"
#include "support/run_command.hpp"
#include "support/temp_env.hpp"

namespace fs = std::filesystem;
using cordon::test::required_env;
using cordon::test::run_command;
using cordon::test::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// Child environment in which no executor can be found (MXC_BIN_DIR empty = unset, npm prefix empty).
std::vector<std::string> nowhere(const TempDir& dir) {
    fs::create_directories(dir / "empty");
    return {"MXC_BIN_DIR=", "npm_config_prefix=" + (dir / "empty").string(),
            "NPM_CONFIG_PREFIX=" + (dir / "empty").string(), "CORDON_MXC_CACHE=" + (dir / "empty").string()};
}

}  // namespace

TEST_SUITE("verify-cli") {
    TEST_CASE("help and usage errors") {
        const std::string exe = required_env("CORDON_EXE");
        auto r = run_command({exe, "verify", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "Exit status: 0 trusted, 1 untrusted"));
        CHECK(contains(run_command({exe, "--help"}).out, "verify"));
        for (std::vector<std::string> bad : {std::vector<std::string>{"--bogus"}, {"--executor"}, {"--executor", ""},
                                             {"--platform", "beos"}, {"--arch", "i686"}, {"stray"}}) {
            std::vector<std::string> argv{exe, "verify"};
            argv.insert(argv.end(), bad.begin(), bad.end());
            auto u = run_command(argv);
            CHECK_MESSAGE(u.exit_code == 2, bad.front());
            CHECK(contains(u.err, "cordon verify: "));
        }
    }

    TEST_CASE("nothing installed: exit 3 with the install command") {
        const std::string exe = required_env("CORDON_EXE");
        TempDir dir;
        auto r = run_command({exe, "verify"}, "", nowhere(dir));
        CHECK(r.exit_code == 3);
        CHECK(contains(r.err, "cordon verify: unavailable: "));
        CHECK(r.out.empty());  // errors go to stderr
        CHECK(contains(r.err, "cordon setup"));
        r = run_command({exe, "verify", "--executor", (dir / "missing").string()}, "", nowhere(dir));
        CHECK(r.exit_code == 3);
        CHECK(contains(r.err, (dir / "missing").string()));
    }

    TEST_CASE("a file that is not the pinned executor: exit 1 with expected and actual digests") {
        const std::string exe = required_env("CORDON_EXE");
        TempDir dir;
        const fs::path fake = dir / std::string(*cordon::executor_file_name(cordon::host_os()));
        fs::copy_file("/bin/true", fake);
        fs::permissions(fake, static_cast<fs::perms>(0755));
        const std::string actual = run_command({"sha256sum", fake.string()}).out.substr(0, 64);
        const cordon::ExecutorPin* pin =
            cordon::find_executor_pin(cordon::default_sdk_version, cordon::host_os(), cordon::host_arch().value());
        REQUIRE(pin != nullptr);

        auto r = run_command({exe, "verify", "--executor", fake.string()}, "", nowhere(dir));
        CHECK(r.exit_code == 1);
        CHECK(contains(r.out, "path: " + fake.string()));
        CHECK(contains(r.err, "untrusted-executor: " + fake.string() + ": SHA-256 mismatch"));
        CHECK(contains(r.err, std::string(pin->sha256)));
        CHECK(contains(r.err, "actual " + actual));

        // The same file through $MXC_BIN_DIR/<arch>/: found there, still untrusted.
        fs::create_directories(dir / "bin" / std::string(cordon::to_string(cordon::host_arch().value())));
        fs::copy_file(fake, dir / "bin" / std::string(cordon::to_string(cordon::host_arch().value())) / fake.filename());
        auto env = nowhere(dir);
        env.push_back("MXC_BIN_DIR=" + (dir / "bin").string());
        r = run_command({exe, "verify"}, "", env);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.out, "found: $MXC_BIN_DIR/<arch>"));

        // Writable by others: refused before hashing.
        fs::permissions(fake, static_cast<fs::perms>(0777));
        r = run_command({exe, "verify", "--executor", fake.string()}, "", nowhere(dir));
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "writable by its group or by others"));

        // An SDK version cordon does not pin.
        fs::permissions(fake, static_cast<fs::perms>(0755));
        r = run_command({exe, "verify", "--executor", fake.string(), "--sdk", "0.0.1"}, "", nowhere(dir));
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "SDK version '0.0.1'"));
    }
}
