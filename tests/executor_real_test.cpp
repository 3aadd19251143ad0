// SPDX-License-Identifier: MIT
// The real lxc-exec that scripts/setup_sandbox.sh installed (found through $MXC_BIN_DIR): trusted as
// installed, untrusted with one byte flipped, and launched from the verified descriptor even after
// its path was swapped. Exits 77 (skip) with the reason when the executor is not installed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cordon/backend_sdk/spawn_verified.hpp"
#include "cordon/verified_executor.hpp"
#include "support/run_command.hpp"
#include "support/temp_env.hpp"

namespace fs = std::filesystem;
using cordon::ErrorCode;
using cordon::test::run_command;
using cordon::test::TempDir;

namespace {

fs::path installed;  // the executor resolved from $MXC_BIN_DIR, set by main()

std::string sha256sum(const fs::path& file) {
    auto r = run_command({"sha256sum", file.string()});
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, 64);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

struct Spawned {
    int exit_code = -1;
    std::string out;
};

Spawned run_verified(const cordon::VerifiedExecutor& exe, const std::vector<std::string>& args) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    auto pid = cordon::backend_sdk::spawn_verified(exe, args, {"PATH=/usr/bin:/bin"}, p[1]);
    ::close(p[1]);
    REQUIRE_MESSAGE(pid.has_value(), (pid ? "" : pid.error().to_string()));
    Spawned s;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) s.out.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int status = 0;
    ::waitpid(*pid, &status, 0);
    s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return s;
}

void copy_executable(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, static_cast<fs::perms>(0755));
}

}  // namespace

TEST_CASE("the installed executor is trusted and matches its pin") {
    auto v = cordon::open_trusted_executor();
    REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().to_string()));
    CHECK(v->path() == installed);
    CHECK(v->sha256() == sha256sum(installed));
    CHECK(v->pin().size == fs::file_size(installed));
    CHECK(v->pin().os == cordon::host_os());
    const cordon::ExecutorPin* pin =
        cordon::find_executor_pin(v->sdk_version(), cordon::host_os(), cordon::host_arch().value());
    REQUIRE(pin != nullptr);
    CHECK(pin->sha256 == v->sha256());
    // It is the SDK it claims: asking for that version passes, asking for another fails.
    cordon::ExecutorSpec same;
    same.sdk_version = std::string(v->sdk_version());
    CHECK(cordon::verify_executor(installed, same).has_value());
    cordon::ExecutorSpec other;
    other.sdk_version = v->sdk_version() == "0.9.0" ? "0.7.0" : "0.9.0";
    auto wrong = cordon::verify_executor(installed, other);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == ErrorCode::untrusted_executor);
}

TEST_CASE("one flipped byte in a copy of the real executor: untrusted, both digests named") {
    TempDir dir;
    const fs::path copy = dir / installed.filename().string();
    copy_executable(installed, copy);
    std::string bytes = cordon::test::read_file(copy);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x80);
    cordon::test::write_file(copy, bytes, 0755);
    const std::string expected = sha256sum(installed);
    const std::string actual = sha256sum(copy);
    auto v = cordon::verify_executor(copy);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code == ErrorCode::untrusted_executor);
    CHECK(v.error().where == copy.string());
    CHECK(contains(v.error().message, expected));
    CHECK(contains(v.error().message, actual));
}

TEST_CASE("the real executor runs from its verified descriptor, also after its path was swapped") {
    TempDir dir;
    const fs::path exe = dir / installed.filename().string();
    copy_executable(installed, exe);
    auto v = cordon::verify_executor(exe);
    REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().to_string()));
    copy_executable("/bin/true", dir / "swap");
    fs::rename(dir / "swap", exe);
    CHECK_FALSE(contains(run_command({exe.string(), "--help"}).out, "Linux Container Executor"));  // now /bin/true
    Spawned s = run_verified(*v, {"--help"});
    CHECK(s.exit_code == 0);
    CHECK(contains(s.out, "Linux Container Executor"));
}

TEST_CASE("cordon verify: exit 0 with path, digest and SDK version; 1 for the wrong SDK or a modified copy") {
    const char* cordon_exe = std::getenv("CORDON_EXE");
    if (cordon_exe == nullptr) {
        MESSAGE("skipped: CORDON_EXE not set (built with -Dcli=false)");
        return;
    }
    auto v = cordon::open_trusted_executor();
    REQUIRE(v.has_value());
    auto r = run_command({cordon_exe, "verify"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "path: " + installed.string() + "\n"));
    CHECK(contains(r.out, "sha256: " + sha256sum(installed) + "\n"));
    CHECK(contains(r.out, "sdk: " + std::string(v->sdk_version()) + " "));
    CHECK(contains(r.out, "trusted\n"));
    r = run_command({cordon_exe, "verify", "--executor", installed.string(), "--sdk", std::string(v->sdk_version())});
    CHECK(r.exit_code == 0);
    r = run_command({cordon_exe, "verify", "--sdk", v->sdk_version() == "0.9.0" ? "0.7.0" : "0.9.0"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "untrusted-executor: "));  // errors go to stderr (stdout: what was found)
    CHECK(contains(r.err, ": SHA-256 mismatch"));
}

int main(int argc, char** argv) {
    const char* dir = std::getenv("MXC_BIN_DIR");
    if (dir == nullptr || *dir == '\0') {
        std::cout << "SKIP: MXC_BIN_DIR is not set, so the real executor is not tested. Install it with\n"
                     "  eval \"$(scripts/setup_sandbox.sh --print-env)\"   (scripts/test.sh does this)\n";
        return 77;
    }
    auto location = cordon::resolve_executor();
    if (!location || (location->source != cordon::ExecutorSource::mxc_bin_dir_arch &&
                      location->source != cordon::ExecutorSource::mxc_bin_dir)) {
        std::cout << "SKIP: no executor under MXC_BIN_DIR=" << dir << ": "
                  << (location ? "found elsewhere: " + location->path.string() : location.error().to_string()) << "\n";
        return 77;
    }
    installed = location->path;
    std::cout << "testing the real executor " << installed.string() << "\n";
    doctest::Context context(argc, argv);
    return context.run();
}
