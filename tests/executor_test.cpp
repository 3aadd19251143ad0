// SPDX-License-Identifier: MIT
// Trusted executor: arch names, pin manifest, resolution order, SHA-256 verification and the
// swap-after-verify race, with real files, real environment variables and real processes.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cordon/arch.hpp"
#include "cordon/detail/npm_prefix.hpp"
#include "cordon/detail/sha256.hpp"
#include "cordon/backend_sdk/spawn_verified.hpp"
#include "cordon/executor.hpp"
#include "cordon/mxc_codec.hpp"
#include "cordon/policy.hpp"
#include "cordon/pins.hpp"
#include "cordon/verified_executor.hpp"
#include "support/run_command.hpp"
#include "support/temp_env.hpp"

namespace fs = std::filesystem;
using cordon::Arch;
using cordon::ErrorCode;
using cordon::ExecutorPin;
using cordon::ExecutorSource;
using cordon::ExecutorSpec;
using cordon::test::read_file;
using cordon::test::run_command;
using cordon::test::ScopedEnv;
using cordon::test::TempDir;
using cordon::test::write_file;

namespace {

const std::string binary{*cordon::executor_file_name(cordon::host_os())};
const std::string arch_dir{cordon::to_string(cordon::host_arch().value())};

// Digest by coreutils, independent of the code under test.
std::string sha256sum(const fs::path& file) {
    auto r = run_command({"sha256sum", file.string()});
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, 64);
}

// A pin table holding exactly this file (tests cannot forge the real executors' digests).
struct TestPins {
    std::string sha;
    std::vector<ExecutorPin> pins;
    TestPins(const fs::path& file, std::string_view sdk = "9.9.9") : sha(sha256sum(file)) {
        pins.push_back(ExecutorPin{sdk, cordon::host_os(), cordon::host_arch().value(), "lxc-exec", sha,
                                   static_cast<std::uint64_t>(fs::file_size(file))});
    }
};

void copy_executable(const fs::path& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, static_cast<fs::perms>(0755));
}

void flip_byte(const fs::path& file, std::size_t offset) {
    std::string bytes = read_file(file);
    REQUIRE(offset < bytes.size());
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
    write_file(file, bytes, 0755);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// Everything that steers resolution, cleared: no MXC_BIN_DIR, no npm config, no node on PATH.
void isolate_resolution(ScopedEnv& env, const TempDir& dir) {
    fs::create_directories(dir / "home");
    fs::create_directories(dir / "empty-path");
    for (const char* name : {"MXC_BIN_DIR", "npm_config_prefix", "NPM_CONFIG_PREFIX", "npm_config_userconfig",
                             "NPM_CONFIG_USERCONFIG", "npm_config_globalconfig", "NPM_CONFIG_GLOBALCONFIG", "PREFIX",
                             "DESTDIR", "CORDON_MXC_CACHE", "XDG_CACHE_HOME"})
        env.unset(name);
    env.set("HOME", (dir / "home").string());
    env.set("PATH", (dir / "empty-path").string());
}

// Runs a verified executor with args; returns its stdout.
std::string run_verified(const cordon::VerifiedExecutor& exe, const std::vector<std::string>& args) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    auto pid = cordon::backend_sdk::spawn_verified(exe, args, {"PATH=/usr/bin:/bin"}, p[1]);
    ::close(p[1]);
    REQUIRE_MESSAGE(pid.has_value(), (pid ? "" : pid.error().to_string()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int status = 0;
    ::waitpid(*pid, &status, 0);
    CHECK(WIFEXITED(status));
    return out;
}

}  // namespace

TEST_SUITE("executor") {
    TEST_CASE("arch: every OS spelling maps to the package folder name") {
        for (const char* s : {"AMD64", "amd64", "x86_64", "X86_64", "x64", "X64"})
            CHECK(cordon::normalize_arch(s).value() == Arch::x64);
        for (const char* s : {"ARM64", "arm64", "aarch64", "AARCH64", "Arm64"})
            CHECK(cordon::normalize_arch(s).value() == Arch::arm64);
        for (const char* s : {"i686", "x86", "armv7l", "riscv64", "aarch64_be", "", "x86_64 "}) {
            auto r = cordon::normalize_arch(s);
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == ErrorCode::unavailable);
            CHECK(contains(r.error().message, "only x64 and arm64"));
        }
        CHECK(cordon::to_string(Arch::x64) == "x64");
        CHECK(cordon::to_string(Arch::arm64) == "arm64");
        // The host: what the kernel says, through the same mapping.
        auto uname = run_command({"uname", "-m"});
        REQUIRE(uname.exit_code == 0);
        uname.out.erase(uname.out.find_last_not_of('\n') + 1);
        CHECK(cordon::host_arch().value() == cordon::normalize_arch(uname.out).value());
    }

    TEST_CASE("pins: contract acceptance per SDK, lookups, file names") {
        // Measured (mxc-contract.md section 1, mxc-1.0.md section 3).
        for (const char* c : {"0.6.0-alpha", "0.7.0-alpha", "0.8.0-alpha", "0.9.0-alpha", "0.10.0-alpha"})
            CHECK(cordon::sdk_accepts_contract("0.9.0", c));
        for (const char* c : {"0.9.0-alpha", "1.0.0", "1.1.0-alpha"}) CHECK(cordon::sdk_accepts_contract("1.0.1", c));
        for (const char* c : {"0.6.0-alpha", "0.7.0-alpha", "0.8.0-alpha", "0.10.0-alpha"})
            CHECK_FALSE(cordon::sdk_accepts_contract("1.0.1", c));  // 1.0.x dropped every 0.x contract but 0.9
        CHECK_FALSE(cordon::sdk_accepts_contract("0.9.0", "1.0.0"));
        CHECK_FALSE(cordon::sdk_accepts_contract("0.8.0", "0.6.0-alpha"));
        CHECK_FALSE(cordon::sdk_accepts_contract("0.9.0", ""));
        const ExecutorPin* p = cordon::find_executor_pin("0.9.0", "linux", Arch::x64);
        REQUIRE(p != nullptr);
        CHECK(p->sha256 == "01f1ed9f78342405aeb6714e4e05d6d42fdb62465145a94ecdbf753fb60d4c90");
        CHECK(p->size == 12663568);
        CHECK(cordon::find_executor_pin("0.9.0", "darwin", Arch::x64) == nullptr);  // the package has none
        for (const char* os : {"linux", "win32"})
            for (Arch arch : {Arch::x64, Arch::arm64}) CHECK(cordon::find_executor_pin("1.0.1", os, arch) != nullptr);
        CHECK(cordon::find_executor_pin("1.0.1", "darwin", Arch::arm64) != nullptr);
        CHECK(cordon::executor_file_name("win32") == std::optional<std::string_view>("wxc-exec.exe"));
        CHECK_FALSE(cordon::executor_file_name("freebsd").has_value());
        CHECK(cordon::find_sdk_release(cordon::default_sdk_version) != nullptr);
        CHECK(cordon::default_sdk_version == "1.0.1");
    }

    TEST_CASE("pins: the emitted contract follows the executor SDK") {
        cordon::Policy p;
        p.process.command_line = "true";
        CHECK(cordon::choose_contract(p, "1.0.1").value()->version == "1.0.0");
        CHECK(cordon::choose_contract(p, "0.9.0").value()->version == "0.9.0-alpha");
        CHECK(cordon::choose_contract(p, "0.7.0").value()->version == "0.7.0-alpha");
        p.network = cordon::NetworkSpec{};
        p.network->proxy = cordon::Proxy{cordon::ProxyLocalhost{3128}};  // legacy-only: the newest legacy contract
        CHECK(cordon::choose_contract(p, "0.9.0").value()->version == "0.7.0-alpha");
        auto none = cordon::choose_contract(p, "1.0.1");
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error().code == ErrorCode::backend_unsupported);
        CHECK(none.error().where == "/runtimeConfig/networkProxy");
        CHECK_FALSE(cordon::choose_contract(p, "9.9.9").has_value());
    }

    TEST_CASE("pins: setup_sandbox.sh reads exactly the header's rows") {
        const std::string source = cordon::test::required_env("CORDON_SOURCE_DIR");
        auto r = run_command({"bash", source + "/scripts/setup_sandbox.sh", "--list-pins"});
        REQUIRE(r.exit_code == 0);
        std::set<std::string> script_rows;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) script_rows.insert(line);
        std::set<std::string> header_rows;
        for (const auto& s : cordon::sdk_releases)
            header_rows.insert("release\t" + std::string(s.version) + "\t" + std::string(s.tarball_sha256) + "\t" +
                               std::to_string(s.tarball_size) + "\t" + std::string(s.contracts));
        for (const auto& p : cordon::executor_pins)
            header_rows.insert("executor\t" + std::string(p.sdk_version) + "\t" + std::string(p.os) + "\t" +
                               std::string(cordon::to_string(p.arch)) + "\t" + std::string(p.file) + "\t" +
                               std::string(p.sha256) + "\t" + std::to_string(p.size));
        CHECK(script_rows == header_rows);
    }

    TEST_CASE("pins: agree with the study's independent record (shared/reference/mxc/pins.tsv)") {
        const char* shared = std::getenv("CORDON_SHARED_DIR");
        fs::path tsv = shared ? fs::path(shared) / "reference" / "mxc" / "pins.tsv" : fs::path();
        if (tsv.empty() || !fs::exists(tsv)) {
            MESSAGE("skipped: no reference pins.tsv at '" << tsv.string() << "' (CORDON_SHARED_DIR)");
            return;
        }
        std::set<std::string> reference;
        std::istringstream lines(read_file(tsv));
        for (std::string line; std::getline(lines, line);) reference.insert(line);
        for (const auto& p : cordon::executor_pins)
            CHECK_MESSAGE(reference.count(std::string(p.sdk_version) + "\t" + std::string(cordon::to_string(p.arch)) +
                                          "\t" + std::string(p.file) + "\t" + std::string(p.sha256) + "\t" +
                                          std::to_string(p.size)) == 1,
                          p.sdk_version, " ", p.os, " ", p.file);
        for (const auto& s : cordon::sdk_releases) {
            if (s.tarball_sha256.empty()) continue;
            CHECK(reference.count(std::string(s.version) + "\t-\tnpm-tarball microsoft-mxc-sdk-" + std::string(s.version) +
                                  ".tgz\t" + std::string(s.tarball_sha256) + "\t" + std::to_string(s.tarball_size)) == 1);
        }
    }

    TEST_CASE("sha256: known answers and a file larger than one read, against coreutils") {
        using cordon::detail::sha256_of_bytes;
        using cordon::detail::to_hex;
        CHECK(to_hex(sha256_of_bytes("").value()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        CHECK(to_hex(sha256_of_bytes("abc").value()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        TempDir dir;
        std::string big(3 * cordon::detail::sha256_read_size + 12345, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
        write_file(dir / "big", big, 0644);
        int fd = ::open((dir / "big").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::lseek(fd, 1000, SEEK_SET) == 1000);  // the descriptor's offset must not matter
        std::uint64_t hashed = 0;
        auto d = cordon::detail::sha256_of_file(fd, &hashed, "big");
        ::close(fd);
        REQUIRE(d.has_value());
        CHECK(hashed == big.size());
        CHECK(to_hex(*d) == sha256sum(dir / "big"));
    }

    TEST_CASE("verify: the right file is trusted and held open close-on-exec") {
        TempDir dir;
        copy_executable("/bin/echo", dir / "lxc-exec");
        TestPins t(dir / "lxc-exec");
        auto v = cordon::detail::verify_executor_against(dir / "lxc-exec", {}, t.pins);
        REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().to_string()));
        CHECK(v->sha256() == t.sha);
        CHECK(v->sdk_version() == "9.9.9");
        CHECK(v->path() == dir / "lxc-exec");
        CHECK(v->is_open());
        CHECK(v->launch_path() == "/proc/self/fd/" + std::to_string(v->fd()));
        CHECK((::fcntl(v->fd(), F_GETFD) & FD_CLOEXEC) != 0);
        CHECK((::fcntl(v->fd(), F_GETFL) & O_ACCMODE) == O_RDONLY);
        // Move-only ownership: the descriptor moves, the source is emptied, close() releases it.
        int fd = v->fd();
        cordon::VerifiedExecutor moved = std::move(*v);
        CHECK_FALSE(v->is_open());
        CHECK(moved.fd() == fd);
        moved.close();
        CHECK_FALSE(moved.is_open());
        CHECK(::fcntl(fd, F_GETFD) == -1);
    }

    TEST_CASE("verify: one flipped byte is untrusted, naming path, expected and actual digest") {
        TempDir dir;
        copy_executable("/bin/echo", dir / "lxc-exec");
        TestPins t(dir / "lxc-exec");
        flip_byte(dir / "lxc-exec", 4321);
        const std::string actual = sha256sum(dir / "lxc-exec");
        REQUIRE(actual != t.sha);
        auto v = cordon::detail::verify_executor_against(dir / "lxc-exec", {}, t.pins);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        CHECK(v.error().where == (dir / "lxc-exec").string());
        CHECK(contains(v.error().message, "expected " + t.sha));
        CHECK(contains(v.error().message, "actual " + actual));
    }

    TEST_CASE("verify: the real pins reject a file that is not the executor, with both digests") {
        TempDir dir;
        copy_executable("/bin/true", dir / binary);
        auto v = cordon::verify_executor(dir / binary);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        const ExecutorPin* pin = cordon::find_executor_pin(cordon::default_sdk_version, cordon::host_os(),
                                                           cordon::host_arch().value());
        REQUIRE(pin != nullptr);
        CHECK(contains(v.error().message, std::string(pin->sha256)));     // expected
        CHECK(contains(v.error().message, sha256sum(dir / binary)));       // actual
    }

    TEST_CASE("verify: missing file is unavailable with the install command") {
        TempDir dir;
        auto v = cordon::verify_executor(dir / "nope" / binary);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::unavailable);
        CHECK(contains(v.error().message, "scripts/setup_sandbox.sh --print-env"));
        CHECK(contains(v.error().message, "@microsoft/mxc-sdk@" + std::string(cordon::default_sdk_version)));
        CHECK(v.error().where == (dir / "nope" / binary).string());
    }

    TEST_CASE("verify: refuses what could change between check and use, without hanging") {
        TempDir dir;
        copy_executable("/bin/echo", dir / "lxc-exec");
        TestPins t(dir / "lxc-exec");
        auto expect_untrusted = [&](const fs::path& p, const std::string& words) {
            auto v = cordon::detail::verify_executor_against(p, {}, t.pins);
            REQUIRE_FALSE(v.has_value());
            CHECK(v.error().code == ErrorCode::untrusted_executor);
            CHECK_MESSAGE(contains(v.error().message, words), v.error().message);
        };
        fs::permissions(dir / "lxc-exec", static_cast<fs::perms>(0775));
        expect_untrusted(dir / "lxc-exec", "writable by its group or by others");
        fs::permissions(dir / "lxc-exec", static_cast<fs::perms>(0757));
        expect_untrusted(dir / "lxc-exec", "writable by its group or by others");
        fs::permissions(dir / "lxc-exec", static_cast<fs::perms>(0755));
        if (::geteuid() == 0) {
            REQUIRE(::chown((dir / "lxc-exec").c_str(), 4242, 4242) == 0);
            expect_untrusted(dir / "lxc-exec", "owned by uid 4242");
        } else {
            MESSAGE("not root: the foreign-owner case needs chown and is not checked");
        }
        fs::create_directories(dir / "adir");
        expect_untrusted(dir / "adir", "not a regular file");
        REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);  // a blocking open would hang here
        expect_untrusted(dir / "fifo", "not a regular file");
        expect_untrusted("/dev/null", "not a regular file");
    }

    TEST_CASE("verify: SDK version, platform and size are part of the match") {
        TempDir dir;
        copy_executable("/bin/echo", dir / "lxc-exec");
        TestPins t(dir / "lxc-exec", "0.9.0");
        ExecutorSpec spec;
        spec.sdk_version = "0.9.0";
        CHECK(cordon::detail::verify_executor_against(dir / "lxc-exec", spec, t.pins).has_value());
        spec.sdk_version = "0.7.0";  // right bytes, but not pinned as 0.7.0
        auto v = cordon::detail::verify_executor_against(dir / "lxc-exec", spec, t.pins);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        CHECK(contains(v.error().message, "SDK version '0.7.0'"));
        // A platform with no pin at all is unavailable, not untrusted.
        ExecutorSpec other;
        other.arch = cordon::host_arch().value() == Arch::x64 ? Arch::arm64 : Arch::x64;
        v = cordon::detail::verify_executor_against(dir / "lxc-exec", other, t.pins);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::unavailable);
        // The real table: SDK 1.0.1 is pinned, and these bytes are not its executor.
        spec.sdk_version = "1.0.1";
        v = cordon::verify_executor(dir / "lxc-exec", spec);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        CHECK(contains(v.error().message, "1.0.1"));
        // A pin whose size disagrees with the digest's file never matches.
        t.pins[0].size += 1;
        v = cordon::detail::verify_executor_against(dir / "lxc-exec", {}, t.pins);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
    }

    TEST_CASE("verify: a pinned executor of another platform is named as such") {
        TempDir dir;
        copy_executable("/bin/echo", dir / "wxc-exec.exe");
        TestPins t(dir / "wxc-exec.exe");
        std::vector<ExecutorPin> pins{t.pins[0], t.pins[0]};
        pins[0].os = "win32";
        pins[0].file = "wxc-exec.exe";
        pins[1].sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
        auto v = cordon::detail::verify_executor_against(dir / "wxc-exec.exe", {}, pins);
        REQUIRE_FALSE(v.has_value());
        CHECK(contains(v.error().message, "the file is the wxc-exec.exe of SDK 9.9.9, win32/"));
        ExecutorSpec win;
        win.os = "win32";  // asked for explicitly (wine tests verify wxc-exec.exe on Linux)
        CHECK(cordon::detail::verify_executor_against(dir / "wxc-exec.exe", win, pins).has_value());
    }

    TEST_CASE("race: replacing the file after verification does not change what runs") {
        TempDir dir;
        const fs::path exe = dir / "lxc-exec";
        copy_executable("/bin/echo", exe);
        TestPins t(exe);

        SUBCASE("rename over the path") {
            auto v = cordon::detail::verify_executor_against(exe, {}, t.pins);
            REQUIRE(v.has_value());
            copy_executable("/bin/true", dir / "evil");
            fs::rename(dir / "evil", exe);  // the attacker's move, between verification and launch
            CHECK(run_command({exe.string(), "verified-bytes-ran"}).out.empty());  // the path now runs /bin/true
            CHECK_FALSE(cordon::detail::verify_executor_against(exe, {}, t.pins).has_value());
            CHECK(run_verified(*v, {"verified-bytes-ran"}) == "verified-bytes-ran\n");
        }
        SUBCASE("unlink and create a script at the path") {
            auto v = cordon::detail::verify_executor_against(exe, {}, t.pins);
            REQUIRE(v.has_value());
            fs::remove(exe);
            write_file(exe, "#!/bin/sh\necho ATTACKER\n", 0755);
            CHECK(run_command({exe.string()}).out == "ATTACKER\n");
            CHECK(run_verified(*v, {"verified-bytes-ran"}) == "verified-bytes-ran\n");
        }
        SUBCASE("retarget a symlink") {
            copy_executable("/bin/true", dir / "other");
            fs::create_symlink(exe, dir / "link");
            auto v = cordon::detail::verify_executor_against(dir / "link", {}, t.pins);
            REQUIRE(v.has_value());
            fs::remove(dir / "link");
            fs::create_symlink(dir / "other", dir / "link");
            CHECK(run_verified(*v, {"through", "the link"}) == "through the link\n");
        }
        SUBCASE("a closed executor is never launched") {
            auto v = cordon::detail::verify_executor_against(exe, {}, t.pins);
            REQUIRE(v.has_value());
            v->close();
            auto pid = cordon::backend_sdk::spawn_verified(*v, {"x"}, {});
            REQUIRE_FALSE(pid.has_value());
            CHECK(pid.error().code == ErrorCode::execution_failed);
        }
    }

    TEST_CASE("spawn_verified: the environment is exactly what the caller passes") {
        TempDir dir;
        copy_executable("/usr/bin/env", dir / "lxc-exec");
        TestPins t(dir / "lxc-exec");
        auto v = cordon::detail::verify_executor_against(dir / "lxc-exec", {}, t.pins);
        REQUIRE(v.has_value());
        ScopedEnv env;
        env.set("CORDON_SECRET_FOR_TEST", "must-not-leak");
        CHECK(run_verified(*v, {}) == "PATH=/usr/bin:/bin\n");
    }

    TEST_CASE("npmrc: prefix parsing as npm reads it") {
        TempDir dir;
        ScopedEnv env;
        env.set("CORDON_TEST_BASE", "/opt/base").unset("CORDON_TEST_UNSET");
        auto rc = [&](const std::string& text) {
            write_file(dir / "npmrc", text, 0644);
            return cordon::detail::npmrc_prefix(dir / "npmrc");
        };
        CHECK(rc("prefix=/a\n") == std::optional<std::string>("/a"));
        CHECK(rc("; comment\n# comment\n  prefix = \"/b c\"  \r\n") == std::optional<std::string>("/b c"));
        CHECK(rc("prefix=/first\nprefix=/last\n") == std::optional<std::string>("/last"));
        CHECK(rc("prefix=${CORDON_TEST_BASE}/npm\n") == std::optional<std::string>("/opt/base/npm"));
        CHECK(rc("prefix=${CORDON_TEST_UNSET}/npm\n") == std::nullopt);  // npm refuses it too
        CHECK(rc("prefix=${CORDON_TEST_UNSET?}/npm\n") == std::optional<std::string>("/npm"));
        CHECK(rc("registry=https://example.invalid/\n[section]\nprefix=/not-global\n") == std::nullopt);
        CHECK(rc("prefixes=/x\nmy-prefix=/y\n") == std::nullopt);
        CHECK(cordon::detail::npmrc_prefix(dir / "absent") == std::nullopt);
    }

    TEST_CASE("resolve: each step in order, with real folders and environment variables") {
        TempDir dir;
        ScopedEnv env;
        isolate_resolution(env, dir);
        const fs::path bin = dir / "mxc-bin";
        const fs::path npm_prefix = dir / "npm-prefix";
        const fs::path npm_exe = npm_prefix / "lib" / "node_modules" / "@microsoft" / "mxc-sdk" / "bin" / arch_dir / binary;
        auto where = [](const cordon::Result<cordon::ExecutorLocation>& r) {
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
            return r->path;
        };

        // Nothing anywhere: unavailable, saying where it looked and the exact install command.
        auto none = cordon::resolve_executor();
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error().code == ErrorCode::unavailable);
        CHECK(contains(none.error().message, "$MXC_BIN_DIR (not set)"));
        CHECK(contains(none.error().message, "eval \"$(scripts/setup_sandbox.sh --print-env)\""));

        // 5. the global npm package, prefix from the environment
        write_file(npm_exe, "npm", 0755);
        env.set("NPM_CONFIG_PREFIX", npm_prefix.string());
        CHECK(where(cordon::resolve_executor()) == npm_exe);
        CHECK(cordon::resolve_executor()->source == ExecutorSource::npm_global);

        // 4. cordon's cache (cordon setup) wins over npm: $HOME/.cache/cordon/mxc/<sdk>/bin/<arch>/,
        // the default SDK first; XDG_CACHE_HOME and CORDON_MXC_CACHE move it.
        const fs::path home_cache = dir / "home" / ".cache" / "cordon" / "mxc";
        const std::string default_sdk(cordon::default_sdk_version);
        write_file(home_cache / "0.7.0" / "bin" / arch_dir / binary, "cache 0.7.0", 0755);
        CHECK(where(cordon::resolve_executor()) == home_cache / "0.7.0" / "bin" / arch_dir / binary);
        CHECK(cordon::resolve_executor()->source == ExecutorSource::cordon_cache);
        write_file(home_cache / default_sdk / "bin" / arch_dir / binary, "cache default", 0755);
        CHECK(where(cordon::resolve_executor()) == home_cache / default_sdk / "bin" / arch_dir / binary);
        ExecutorSpec older;
        older.sdk_version = "0.7.0";  // a spec's SDK looks only there
        CHECK(where(cordon::resolve_executor(older)) == home_cache / "0.7.0" / "bin" / arch_dir / binary);
        env.set("XDG_CACHE_HOME", (dir / "xdg").string());
        CHECK(where(cordon::resolve_executor()) == npm_exe);  // the XDG cache is empty
        env.set("XDG_CACHE_HOME", "relative/xdg");  // not absolute: ignored, as the XDG spec says
        CHECK(where(cordon::resolve_executor()) == home_cache / default_sdk / "bin" / arch_dir / binary);
        env.set("CORDON_MXC_CACHE", (dir / "own-cache").string());
        write_file(dir / "own-cache" / default_sdk / "bin" / arch_dir / binary, "own", 0755);
        CHECK(where(cordon::resolve_executor()) == dir / "own-cache" / default_sdk / "bin" / arch_dir / binary);
        CHECK(cordon::executor_cache_root() == dir / "own-cache");

        // 3. $MXC_BIN_DIR/<binary> wins over the cache and npm
        env.set("MXC_BIN_DIR", bin.string());
        CHECK(where(cordon::resolve_executor()) == dir / "own-cache" / default_sdk / "bin" / arch_dir / binary);  // set but empty: falls through
        write_file(bin / binary, "flat", 0755);
        CHECK(where(cordon::resolve_executor()) == bin / binary);
        CHECK(cordon::resolve_executor()->source == ExecutorSource::mxc_bin_dir);

        // 2. $MXC_BIN_DIR/<arch>/<binary> wins over the flat one
        write_file(bin / arch_dir / binary, "arch", 0755);
        CHECK(where(cordon::resolve_executor()) == bin / arch_dir / binary);
        CHECK(cordon::resolve_executor()->source == ExecutorSource::mxc_bin_dir_arch);
        ExecutorSpec other;
        other.arch = cordon::host_arch().value() == Arch::x64 ? Arch::arm64 : Arch::x64;
        CHECK(where(cordon::resolve_executor(other)) == bin / binary);

        // 1. an explicit path wins over everything, and is used alone
        write_file(dir / "explicit" / "my-exec", "explicit", 0755);
        ExecutorSpec spec;
        spec.explicit_path = dir / "explicit" / "my-exec";
        CHECK(where(cordon::resolve_executor(spec)) == dir / "explicit" / "my-exec");
        CHECK(cordon::resolve_executor(spec)->source == ExecutorSource::explicit_path);
        spec.explicit_path = dir / "explicit" / "missing";
        auto missing = cordon::resolve_executor(spec);
        REQUIRE_FALSE(missing.has_value());  // no silent fallback to $MXC_BIN_DIR
        CHECK(missing.error().code == ErrorCode::unavailable);
        CHECK(missing.error().where == (dir / "explicit" / "missing").string());
        spec.explicit_path = dir / "explicit";  // a directory is not an executor
        CHECK_FALSE(cordon::resolve_executor(spec).has_value());

        // A relative MXC_BIN_DIR is made absolute.
        fs::path cwd = fs::current_path();
        fs::current_path(dir.path());
        env.set("MXC_BIN_DIR", "mxc-bin");
        auto rel = cordon::resolve_executor();
        fs::current_path(cwd);
        CHECK(where(rel) == bin / arch_dir / binary);
    }

    TEST_CASE("resolve: the npm prefix comes from npmrc files and node's location, never from running npm") {
        TempDir dir;
        ScopedEnv env;
        isolate_resolution(env, dir);
        auto install_at = [&](const fs::path& prefix) {
            fs::path p = prefix / "lib" / "node_modules" / "@microsoft" / "mxc-sdk" / "bin" / arch_dir / binary;
            write_file(p, "x", 0755);
            return p;
        };
        auto resolved = [] {
            auto r = cordon::resolve_executor();
            REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
            CHECK(r->source == ExecutorSource::npm_global);
            return r->path;
        };
        // default: two levels above `node` on PATH (an npm that is not there is never needed)
        write_file(dir / "nodeprefix" / "bin" / "node", "#!/bin/false\n", 0755);
        env.set("PATH", (dir / "nodeprefix" / "bin").string());
        fs::path by_node = install_at(dir / "nodeprefix");
        CHECK(resolved() == by_node);
        // global npmrc beats the default
        fs::path by_global = install_at(dir / "globalprefix");
        write_file(dir / "global-npmrc", "prefix=" + (dir / "globalprefix").string() + "\n", 0644);
        env.set("NPM_CONFIG_GLOBALCONFIG", (dir / "global-npmrc").string());
        CHECK(resolved() == by_global);
        // ~/.npmrc beats the global one; ${VAR} is expanded
        fs::path by_user = install_at(dir / "userprefix");
        env.set("CORDON_TEST_DIR", dir.path().string());
        write_file(dir / "home" / ".npmrc", "prefix=${CORDON_TEST_DIR}/userprefix\n", 0644);
        CHECK(resolved() == by_user);
        // the environment beats every file
        fs::path by_env = install_at(dir / "envprefix");
        env.set("npm_config_prefix", (dir / "envprefix").string());
        CHECK(resolved() == by_env);
    }
}
