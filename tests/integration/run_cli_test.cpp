// SPDX-License-Identifier: MIT
// `cordon run` end to end with the real executor: exit codes, --json, --dry-run, refusals.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <boost/json/parse.hpp>

#include "../support/run_command.hpp"
#include "cordon/executor.hpp"

namespace fs = std::filesystem;
using cordon::test::required_env;
using cordon::test::run_command;

namespace {

struct Work {
    fs::path dir;
    Work() {
        dir = fs::canonical(fs::temp_directory_path()) / ("cordon-run-cli-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~Work() { fs::remove_all(dir); }
    std::string env() const { return "CORDON_READWRITE_PATHS=" + dir.string(); }
};

cordon::test::CommandResult cordon_run(const Work& w, std::vector<std::string> args) {
    std::vector<std::string> argv{required_env("CORDON_EXE"), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, "", {w.env()});
}

}  // namespace

TEST_CASE("the contained command's exit status and output come through") {
    Work w;
    auto r = cordon_run(w, {"--rw", w.dir.string(), "--cwd", w.dir.string(), "--", "sh", "-c",
                            "echo out; echo err >&2; echo file > made.txt; exit 7"});
    CHECK(r.exit_code == 7);
    CHECK(r.out == "out\n");
    CHECK(r.err.find("err\n") != std::string::npos);
    CHECK(fs::exists(w.dir / "made.txt"));
}

TEST_CASE("timeout exits 124 and says so") {
    Work w;
    auto r = cordon_run(w, {"--rw", w.dir.string(), "--timeout", "600", "--", "sleep", "30"});
    CHECK(r.exit_code == 124);
    CHECK(r.err.find("timed out") != std::string::npos);
}

TEST_CASE("no ceiling, a refused policy, or a usage error exit 125") {
    auto r = run_command({required_env("CORDON_EXE"), "run", "--", "true"});
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("no ceiling") != std::string::npos);
    Work w;
    r = cordon_run(w, {"--bogus", "--", "true"});
    CHECK(r.exit_code == 125);
    r = cordon_run(w, {"--network", "sideways", "--", "true"});
    CHECK(r.exit_code == 125);
    r = cordon_run(w, {"--rw", (w.dir / "missing").string(), "--", "true"});  // bwrap cannot bind it
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("does not exist") != std::string::npos);
}

TEST_CASE("an unavailable or tampered executor exits 126") {
    Work w;
    auto r = cordon_run(w, {"--executor", "/nonexistent/lxc-exec", "--", "true"});
    CHECK(r.exit_code == 126);
    CHECK(r.err.find("unavailable") != std::string::npos);
    fs::path copy = w.dir / "lxc-exec";
    fs::copy_file(cordon::resolve_executor()->path, copy);
    std::ofstream(copy, std::ios::app | std::ios::binary) << "x";
    r = cordon_run(w, {"--executor", copy.string(), "--", "true"});
    CHECK(r.exit_code == 126);
    CHECK(r.err.find("untrusted-executor") != std::string::npos);
}

TEST_CASE("--json prints one object with the result, the config and the clamp report") {
    Work w;
    auto r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--ro", "/etc/hostname-not-granted", "--", "echo",
                            "hi"});
    CHECK(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    CHECK(v.at("stdout") == "hi\n");
    CHECK(v.at("cordon_exit") == 0);
    CHECK(v.at("config").at("version") == "0.6.0-alpha");
    CHECK(v.at("report").at("summary").at("dropped").as_int64() >= 1);
    CHECK(v.at("invocation").as_array().size() >= 3);
}

TEST_CASE("--dry-run prints the config and the invocation and runs nothing") {
    Work w;
    auto r = cordon_run(w, {"--dry-run", "--rw", w.dir.string(), "--cwd", w.dir.string(), "--", "touch", "ran"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("config: {\"version\":\"0.6.0-alpha\"") != std::string::npos);
    CHECK(r.out.find("invocation: lxc-exec --config") != std::string::npos);
    CHECK_FALSE(fs::exists(w.dir / "ran"));
}

TEST_CASE("probe reports the backend, the verified executor and measured capabilities") {
    auto r = run_command({required_env("CORDON_EXE"), "probe"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("backend: bubblewrap") != std::string::npos);
    CHECK(r.out.find("host filtering      NO") != std::string::npos);
    CHECK(r.out.find("(measured)") != std::string::npos);
    r = run_command({required_env("CORDON_EXE"), "probe", "--json"});
    CHECK(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    CHECK(v.at("ready") == true);
    CHECK(v.at("executor").at("sha256").as_string().size() == 64);
    CHECK(v.at("capabilities").at("read_allowlist") == true);
    r = run_command({required_env("CORDON_EXE"), "probe", "--executor", "/nonexistent/lxc-exec"});
    CHECK(r.exit_code == 3);
}

int main(int argc, char** argv) {
    auto probe = cordon::resolve_executor();
    if (!probe) {
        std::cout << "SKIP: no MXC executor: " << probe.error().message << "\n";
        return std::getenv("CORDON_REQUIRE_EXECUTOR") ? 1 : 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
