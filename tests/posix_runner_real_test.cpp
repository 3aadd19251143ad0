// SPDX-License-Identifier: MIT
// POSIX runner with the real lxc-exec (found through $MXC_BIN_DIR) and real bubblewrap: launch from
// a descriptor, failure classification on the executor's real output, and cordon's own tree kill.
// Exits 77 (skip) with the reason when the executor or bwrap is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "run_executor.hpp"

namespace fs = std::filesystem;
using cordon::ExecutorFailure;
using cordon::posix::ExecutorLaunch;
using cordon::posix::run_executor;

namespace {

using Clock = std::chrono::steady_clock;
fs::path executor;  // set by main()

struct Executor {
    int fd = -1;
    Executor() { fd = ::open(executor.c_str(), O_RDONLY | O_CLOEXEC); }
    ~Executor() { if (fd >= 0) ::close(fd); }
};

cordon::detail::RunRequest request(const std::string& process_json, const std::string& extra = "") {
    cordon::detail::RunRequest req;
    req.config_json = R"({"version":"0.6.0-alpha","containment":"bubblewrap",)" + extra + R"("process":)" +
                      process_json + "}";
    req.executor_path = executor.string();
    req.sdk_version = "0.9.0";
    req.timeout_ms = 30000;
    return req;
}

ExecutorLaunch launch() {
    ExecutorLaunch l;
    l.env = {"PATH=/usr/bin:/bin"};  // lxc-exec finds bwrap on PATH; nothing else of ours
    return l;
}

// Host pids of processes whose whole command line (NUL-separated argv) is `cmdline`.
std::vector<int> processes_with(const std::string& cmdline) {
    std::vector<int> pids;
    DIR* proc = ::opendir("/proc");
    while (dirent* e = proc ? ::readdir(proc) : nullptr) {
        int pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline");
        std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmd == cmdline) pids.push_back(pid);
    }
    if (proc) ::closedir(proc);
    return pids;
}

bool gone(int pid) {
    if (::kill(pid, 0) != 0) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');
    return close != std::string::npos && close + 2 < s.size() && s[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("a contained command's status and output, launched from the verified descriptor") {
    Executor x;
    REQUIRE(x.fd >= 0);
    auto req = request(R"({"commandLine":"echo hi; echo err >&2; exit 7"})");
    req.executor_fd = x.fd;
    auto r = run_executor(req, launch());
    REQUIRE(r);
    CHECK(r->run.exit_code == 7);
    CHECK(r->run.out == "hi\n");
    CHECK(r->run.err == "err\n");
    CHECK(r->run.failure == ExecutorFailure::none);
}

TEST_CASE("base64 delivery") {
    auto req = request(R"({"commandLine":"echo via-base64"})");
    req.options.delivery = cordon::ConfigDelivery::base64;
    auto r = run_executor(req, launch());
    REQUIRE(r);
    CHECK(r->run.exit_code == 0);
    CHECK(r->run.out == "via-base64\n");
    REQUIRE(r->run.invocation.size() == 3);
    CHECK(r->run.invocation[1] == "--config-base64");
}

TEST_CASE("the executor's own failures, classified from its real output") {
    SUBCASE("config rejected") {
        auto r = run_executor(request(R"({"commandLine":"true","args":["x"]})"), launch());
        REQUIRE(r);
        CHECK(r->run.exit_code == 1);
        CHECK(r->run.failure == ExecutorFailure::config_rejected);
        CHECK(r->run.failure_message.find("unknown field `args`") != std::string::npos);
    }
    SUBCASE("bwrap cannot bind a missing path") {
        auto r = run_executor(request(R"({"commandLine":"true"})", R"("filesystem":{"readonlyPaths":["/nonexistent/cordon"]},)"),
                              launch());
        REQUIRE(r);
        CHECK(r->run.failure == ExecutorFailure::launch_failed);
        CHECK(r->run.failure_message == "bwrap: Can't find source path /nonexistent/cordon: No such file or directory");
    }
    SUBCASE("the executor's own timeout") {
        auto r = run_executor(request(R"({"commandLine":"sleep 30","timeout":1000})"), launch());
        REQUIRE(r);
        CHECK_FALSE(r->run.timed_out);
        CHECK(r->run.exit_code == 255);
        CHECK(r->run.failure == ExecutorFailure::backend_error);
        CHECK(r->run.failure_message == "script timed out after 1000ms");
    }
    SUBCASE("a backend this OS does not have") {
        auto req = request(R"({"commandLine":"true"})");
        req.config_json = R"({"version":"0.6.0-alpha","containment":"processcontainer","process":{"commandLine":"true"}})";
        auto r = run_executor(req, launch());
        REQUIRE(r);
        CHECK(r->run.failure == ExecutorFailure::backend_unavailable);
    }
}

TEST_CASE("cordon's own timeout kills the executor and the sandboxed tree: no survivors") {
    const std::string marker = "60." + std::to_string(::getpid());  // `sleep 60.<pid>`: unique on this host
    auto req = request(R"({"commandLine":"sleep )" + marker + " & sleep " + marker + R"( & wait"})");
    req.timeout_ms = 1500;
    req.options.grace_ms = 1000;
    cordon::Result<cordon::posix::ProcessResult> result = cordon::make_error(cordon::ErrorCode::internal, "not run");
    std::thread runner([&] { result = run_executor(req, launch()); });
    // While it runs, the sleeps are visible from here (so the check below could see survivors).
    const std::string sleep_cmdline = std::string("sleep\0", 6) + marker + std::string("\0", 1);
    std::vector<int> sleepers;
    for (auto until = Clock::now() + std::chrono::seconds(5); sleepers.size() < 2 && Clock::now() < until;) {
        sleepers = processes_with(sleep_cmdline);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    runner.join();
    REQUIRE(result);
    CHECK(result->run.timed_out);
    CHECK(sleepers.size() == 2);
    for (int pid : sleepers) {
        auto until = Clock::now() + std::chrono::seconds(3);
        while (!gone(pid) && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(gone(pid));
    }
    CHECK(processes_with(sleep_cmdline).empty());
}

int main(int argc, char** argv) {
    const char* dir = std::getenv("MXC_BIN_DIR");
    if (dir == nullptr || *dir == '\0') {
        std::cout << "SKIP: MXC_BIN_DIR is not set, so the runner is not tested with the real lxc-exec. Install it with\n"
                     "  eval \"$(scripts/setup_sandbox.sh --print-env)\"\n";
        return 77;
    }
    utsname u{};
    ::uname(&u);
    std::string arch = std::string(u.machine) == "aarch64" ? "arm64" : "x64";
    for (fs::path candidate : {fs::path(dir) / arch / "lxc-exec", fs::path(dir) / "lxc-exec"})
        if (::access(candidate.c_str(), X_OK) == 0) { executor = candidate; break; }
    if (executor.empty()) {
        std::cout << "SKIP: no lxc-exec under MXC_BIN_DIR=" << dir << "\n";
        return 77;
    }
    if (::access("/usr/bin/bwrap", X_OK) != 0 && ::access("/bin/bwrap", X_OK) != 0) {
        std::cout << "SKIP: bwrap is not installed (scripts/install-deps.sh installs it)\n";
        return 77;
    }
    std::cout << "testing the runner with " << executor.string() << "\n";
    doctest::Context context(argc, argv);
    return context.run();
}
