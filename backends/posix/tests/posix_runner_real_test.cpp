// SPDX-License-Identifier: MIT
// POSIX runner with the real lxc-exec (found through $MXC_BIN_DIR) and real bubblewrap: launch from
// a descriptor, failure classification on the executor's real output, cordon's own tree kill, the
// sandbox without host root, resource limits against fork/allocation/write storms, and the config
// swap race with a real sandbox as the attacker. Exits 77 (skip) with the reason when the executor
// or bwrap is missing.
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
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <atomic>
#include <optional>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/verified_executor.hpp"
#include "run_executor.hpp"
#include "support/process_gone.hpp"
#include "support/test_user.hpp"

namespace fs = std::filesystem;
using cordon::ExecutorFailure;
using cordon::posix::ExecutorLaunch;
using cordon::posix::run_executor;

namespace {

using Clock = std::chrono::steady_clock;
fs::path executor;     // set by main()
int executor_fd = -1;  // the verified descriptor, as Runner passes it: /root/.cache is not the run user's to traverse
std::string sdk;       // the executor's SDK (from its pin), set by main()
std::string contract;  // the contract cordon emits for that SDK: 1.0.0 (SDK 1.0.1), 0.9.0-alpha (0.9.0)

struct Executor {
    int fd = -1;
    Executor() { fd = ::open(executor.c_str(), O_RDONLY | O_CLOEXEC); }
    ~Executor() { if (fd >= 0) ::close(fd); }
};

cordon::detail::RunRequest request(const std::string& process_json, const std::string& extra = "") {
    cordon::detail::RunRequest req;
    req.config_json = R"({"version":")" + contract + R"(","containment":"bubblewrap",)" + extra + R"("process":)" +
                      process_json + "}";
    req.executor_path = executor.string();
    req.executor_fd = executor_fd;
    req.sdk_version = sdk;
    req.timeout_ms = 30000;
    req.options.run_as = cordon::test::run_as_for_tests();  // as root: the test user (root is refused)
    return req;
}

ExecutorLaunch launch() {
    ExecutorLaunch l;
    l.env = {"PATH=/usr/bin:/bin"};  // lxc-exec finds bwrap on PATH; nothing else of ours
    return l;
}

using cordon::test::gone;
using cordon::test::processes_with;

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
        CHECK(r->run.timed_out);  // read from lxc-exec's report by the backend (cordon's timer is later)
        CHECK(r->run.exit_code == 255);
        CHECK(r->run.failure == ExecutorFailure::backend_error);
        CHECK(r->run.failure_message == "script timed out after 1000ms");
    }
    SUBCASE("a backend this OS does not have") {
        auto req = request(R"({"commandLine":"true"})");
        req.config_json = R"({"version":")" + contract + R"(","containment":"processcontainer","process":{"commandLine":"true"}})";
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

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A directory tree of the run's user (handed to the test user when we are root), outside nothing.
struct Tree {
    fs::path root;
    explicit Tree(const std::string& tag) {
        std::string t = (fs::temp_directory_path() / ("cordon-real-" + tag + "-XXXXXX")).string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        root = fs::canonical(t);
        ::chmod(root.c_str(), 0755);
    }
    ~Tree() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    fs::path dir(const std::string& name) const {
        fs::create_directories(root / name);
        return root / name;
    }
};

std::string config_json(const std::string& command, const boost::json::object& filesystem, std::uint32_t timeout = 0) {
    boost::json::object process{{"commandLine", command}};
    if (timeout) process["timeout"] = timeout;
    boost::json::object c{{"version", contract}, {"containment", "bubblewrap"}, {"process", process},
                          {"filesystem", filesystem}};
    return boost::json::serialize(c);
}

boost::json::array paths(std::initializer_list<fs::path> ps) {
    boost::json::array a;
    for (const auto& p : ps) a.emplace_back(p.string());
    return a;
}

// Host processes whose real uid is `uid`, counted from /proc/PID/status.
int processes_of(uid_t uid) {
    int n = 0;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    while (dirent* e = proc ? ::readdir(proc.get()) : nullptr) {
        if (std::atoi(e->d_name) <= 0) continue;
        std::istringstream in(cordon::test::read_proc_file(std::string("/proc/") + e->d_name + "/status"));
        for (std::string line; std::getline(in, line);)
            if (line.rfind("Uid:", 0) == 0) {
                if (std::strtoul(line.c_str() + 4, nullptr, 10) == uid) ++n;
                break;
            }
    }
    return n;
}

// Samples processes_of(uid) while `work` runs; returns the largest count seen.
template <class F>
int peak_processes_while(uid_t uid, F&& work) {
    std::atomic<bool> done{false};
    std::atomic<int> peak{0};
    std::thread sampler([&] {
        while (!done) {
            peak = std::max(peak.load(), processes_of(uid));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    work();
    done = true;
    sampler.join();
    return peak;
}

// The user a limits run uses: a dedicated one as root (an rlimit on processes counts every
// process of the uid, so nothing else may run as it), else ourselves.
std::optional<cordon::test::TestUser> limits_user() {
    if (::geteuid() != 0) return cordon::test::TestUser{"self", ::geteuid(), ::getegid()};
    std::string why;
    auto u = cordon::test::test_user("cordon-limits", &why);
    if (!u) MESSAGE("cannot create the limits user: " << why);
    return u;
}

cordon::posix::ProcessResult must_run(const cordon::detail::RunRequest& req) {
    auto r = run_executor(req, launch());
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("the sandbox is not host root: grants stay read-only, masks stay, no global sysctl; control: as root") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: only a root caller could hand the sandbox host root");
        return;
    }
    Tree t("root");
    const fs::path ro = t.dir("ro"), denied = t.dir("denied"), rw = t.dir("rw");
    std::ofstream(ro / "file") << "orig\n";
    std::ofstream(denied / "secret") << "SECRET\n";
    const std::string probe = "grep CapEff /proc/self/status > " + (rw / "caps").string() + "; " +
                              "mount -o remount,rw,bind " + t.root.string() + " 2>/dev/null; echo changed > " +
                              (ro / "file").string() + " 2>/dev/null; umount " + denied.string() + " 2>/dev/null; cat " +
                              (denied / "secret").string() + " > " + (rw / "leak").string() + " 2>/dev/null; " +
                              "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness 2>/dev/null && echo yes > " +
                              (rw / "sysctl").string() + "; true";
    boost::json::object filesystem{{"readonlyPaths", paths({t.root})}, {"readwritePaths", paths({rw})},
                                   {"deniedPaths", paths({denied})}};
    auto req = request("{}");
    req.config_json = config_json(probe, filesystem);
    SUBCASE("as the run's user") {
        cordon::test::hand_to_run_user(t.root);  // the user's own files: only the sandbox may protect them
        auto r = must_run(req);
        CHECK(r.run.exit_code == 0);
        CHECK(slurp(ro / "file") == "orig\n");                          // host file unchanged
        CHECK(slurp(rw / "leak").find("SECRET") == std::string::npos);  // the mask held
        CHECK_FALSE(fs::exists(rw / "sysctl"));
        CHECK(slurp(rw / "caps") == "CapEff:\t0000000000000000\n");
    }
    SUBCASE("control: the same probe as root (the generic primitive, bypassing the refusal), root's files") {
        cordon::posix::SpawnSpec spec;
        spec.executor_path = executor.string();
        spec.executor_fd = executor_fd;
        spec.argv = {"lxc-exec", "--config-base64", cordon::detail::base64_encode(req.config_json)};
        spec.env = {"PATH=/usr/bin:/bin"};
        spec.cwd = "/";
        spec.timeout_ms = 30000;
        auto r = cordon::posix::run_process(spec);
        REQUIRE(r);
        INFO("control: exit " << r->run.exit_code << " out " << r->run.out << " err " << r->run.err << " caps "
                              << slurp(rw / "caps"));
        CHECK(slurp(ro / "file") == "changed\n");
        CHECK(slurp(rw / "leak") == "SECRET\n");
        CHECK(fs::exists(rw / "sysctl"));
    }
}

TEST_CASE("limits.processes: a fork storm fails beyond the limit and the host never sees more; control: no limit") {
    auto user = limits_user();
    REQUIRE(user);
    const std::string storm = "perl -e '$ok=0; $no=0; for (1..N) { my $p = fork; if (!defined $p) { $no++; next } "
                              "if (!$p) { sleep 3; exit 0 } $ok++ } print \"ok=$ok failed=$no\\n\"; 1 while wait > 0'";
    auto run = [&](int forks, std::optional<std::uint64_t> limit) {
        std::string command = storm;
        command.replace(command.find("N)"), 1, std::to_string(forks));
        auto req = request("{}");
        req.config_json = config_json(command, boost::json::object{});
        if (::geteuid() == 0) req.options.run_as = user->run_as();
        req.options.limits.processes = limit;
        cordon::posix::ProcessResult r;
        int peak = peak_processes_while(user->uid, [&] { r = must_run(req); });
        return std::make_pair(r, peak);
    };
    // (not structured bindings: INFO's lambda captures these)
    auto limited_run = run(2000, 64);
    const auto& limited = limited_run.first;
    int limited_peak = limited_run.second;
    INFO("limited: " << limited.run.out << limited.run.err << " peak " << limited_peak);
    CHECK(limited.run.out.rfind("ok=", 0) == 0);
    CHECK(limited.run.out.find("ok=2000 ") == std::string::npos);
    CHECK(limited.run.out.find("failed=0\n") == std::string::npos);
    CHECK(limited_peak <= 64);
    auto control_run = run(200, std::nullopt);
    const auto& control = control_run.first;
    int control_peak = control_run.second;
    INFO("control: " << control.run.out << " peak " << control_peak);
    CHECK(control.run.out == "ok=200 failed=0\n");
    CHECK(control_peak > 64);  // the oracle can see more than the limit
}

TEST_CASE("limits.address_space_bytes: an allocation storm fails; control: it succeeds") {
    auto run = [](std::optional<std::uint64_t> limit) {
        auto req = request("{}");
        req.config_json = config_json("perl -e '$x = \"a\" x (300*1024*1024); print \"allocated\\n\"'", boost::json::object{});
        req.options.limits.address_space_bytes = limit;
        return must_run(req);
    };
    auto limited = run(200ull << 20);
    CHECK(limited.run.out.find("allocated") == std::string::npos);
    CHECK(limited.run.exit_code != 0);
    CHECK(limited.run.failure == ExecutorFailure::none);  // lxc-exec itself still ran
    auto control = run(std::nullopt);
    CHECK(control.run.out == "allocated\n");
}

TEST_CASE("limits.file_size_bytes: a big write stops at the limit (host file size); control: all of it") {
    Tree t("fsize");
    const fs::path rw = t.dir("rw");
    cordon::test::hand_to_run_user(rw);
    auto run = [&](std::optional<std::uint64_t> limit) {
        auto req = request("{}");
        req.config_json = config_json("head -c 8388608 /dev/zero > " + (rw / "big").string(),
                                      boost::json::object{{"readwritePaths", paths({rw})}});
        req.options.limits.file_size_bytes = limit;
        return must_run(req);
    };
    auto limited = run(1u << 20);
    CHECK(fs::file_size(rw / "big") == (1u << 20));
    CHECK(limited.run.exit_code != 0);  // head was stopped (SIGXFSZ)
    fs::remove(rw / "big");
    auto control = run(std::nullopt);
    CHECK(control.run.exit_code == 0);
    CHECK(fs::file_size(rw / "big") == 8388608u);
}

TEST_CASE("limits.cpu_seconds: a busy loop is stopped by SIGXCPU; control: it is still running at the timeout") {
    auto req = request("{}");
    req.config_json = config_json("while :; do :; done", boost::json::object{});
    req.options.limits.cpu_seconds = 1;
    auto limited = must_run(req);
    CHECK_FALSE(limited.run.timed_out);
    CHECK(limited.run.exit_code == 128 + SIGXCPU);  // lxc-exec reports the command's signal as 128+N
    req.options.limits.cpu_seconds.reset();
    req.timeout_ms = 3000;
    req.options.grace_ms = 500;
    auto control = must_run(req);
    CHECK(control.run.timed_out);
}

TEST_CASE("limits.open_files: opening beyond the limit fails; control: all opens succeed") {
    auto run = [](std::optional<std::uint64_t> limit) {
        auto req = request("{}");
        req.config_json = config_json("perl -e 'for $i (1..100) { open($f[$i], \"<\", \"/dev/null\") or do { print "
                                      "\"opened=\", $i-1, \"\\n\"; exit 0 } } print \"opened=100\\n\"'",
                                      boost::json::object{});
        req.options.limits.open_files = limit;
        return must_run(req);
    };
    auto limited = run(32);
    CHECK(limited.run.out.rfind("opened=", 0) == 0);
    CHECK(limited.run.out != "opened=100\n");
    CHECK(std::atoi(limited.run.out.c_str() + 7) < 32);
    CHECK(run(std::nullopt).run.out == "opened=100\n");
}

TEST_CASE("the default delivery leaves nothing in TMPDIR, during the run or after it") {
    Tree t("tmpdir");
    const fs::path tmp = t.dir("tmp");
    const char* saved = std::getenv("TMPDIR");
    std::string old = saved ? saved : "";
    ::setenv("TMPDIR", tmp.c_str(), 1);
    auto req = request(R"({"commandLine":"sleep 1; echo done"})");
    std::atomic<bool> done{false}, seen{false};
    std::thread watch([&] {
        while (!done) {
            if (!fs::is_empty(tmp)) seen = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    auto r = must_run(req);
    done = true;
    watch.join();
    if (saved) ::setenv("TMPDIR", old.c_str(), 1);
    else ::unsetenv("TMPDIR");
    CHECK(r.run.out == "done\n");
    CHECK(r.run.invocation.at(1) == "--config");
    CHECK(r.run.invocation.at(2).rfind("/dev/fd/", 0) == 0);
    CHECK_FALSE(seen.load());
    CHECK(fs::is_empty(tmp));
}

// ../shared/docs/mxc-1.0.md 9.1: with an egress rule, lxc-exec 1.0.1 (and 0.9.0) builds the sandbox, holds the
// workload, and starts slirp4netns and loads the rules into its namespace; when that fails after
// the tools passed their `--version` preflight, it exits 255, and the workload usually runs anyway.
// Provoked with an iptables-restore that answers --version and fails to load (first on this test's
// own PATH, which only this direct executor run gets: Runner gives the executor root-only
// directories). Where /dev/net/tun is root's only, slirp4netns fails first, the same way.
TEST_CASE("a failed network set-up exits 255 and may still run the command: started is maybe, not no") {
    if (contract != "1.0.0" && contract != "0.9.0-alpha") {
        MESSAGE("skipped: SDK " << sdk << " runs these configs under " << contract << ", which has no egress rules");
        return;
    }
    for (const char* tool : {"/usr/bin/slirp4netns", "/usr/sbin/iptables-restore", "/usr/sbin/ip6tables-restore"})
        if (::access(tool, X_OK) != 0) {
            MESSAGE("skipped: " << tool << " is not installed (egress rules need it)");
            return;
        }
    Tree t("netfail");
    const fs::path stub = t.dir("stub"), out = t.dir("out");
    std::ofstream(stub / "iptables-restore") << "#!/bin/sh\n"
                                                "[ \"$1\" = --version ] && exec /usr/sbin/iptables-restore --version\n"
                                                "echo 'iptables-restore: stub: refusing to load' >&2; exit 1\n";
    fs::permissions(stub / "iptables-restore", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                   fs::perms::others_read | fs::perms::others_exec);
    cordon::test::hand_to_run_user(t.root);
    ExecutorLaunch l = launch();
    l.env = {"PATH=" + stub.string() + ":/usr/sbin:/usr/bin:/sbin:/bin"};
    const std::string egress =
        R"("network":{"egress":{"default":"deny","allow":[{"to":[{"cidr":"198.51.100.7/32"}],"ports":[{"port":8080,"protocol":"tcp"}]}]}},)";
    const std::string rw = R"("filesystem":{"readwritePaths":[")" + out.string() + R"("]},)";
    bool ran = false;
    for (int attempt = 0; attempt < 8 && !ran; ++attempt) {  // it ran in 11 of 15 runs (mxc-1.0.md 9.1)
        const fs::path marker = out / ("ran-" + std::to_string(attempt));
        auto r = run_executor(request(R"({"commandLine":"echo ran > )" + marker.string() + R"(","env":[]})", rw + egress), l);
        REQUIRE(r);
        INFO("stderr: " << r->run.err);
        CHECK(r->run.exit_code == 255);
        CHECK(r->run.failure == ExecutorFailure::backend_error);
        CHECK(r->run.failure_message.find("exited during startup") != std::string::npos);
        CHECK(r->run.started == cordon::CommandStarted::maybe);
        ran = fs::exists(marker);
    }
    CHECK_MESSAGE(ran, "the workload never ran after the failed network set-up in 8 attempts");
    // The control: a refusal before bwrap starts (a tool missing from PATH) is `no`.
    l.env = {"PATH=/usr/bin:/bin"};  // no iptables (/usr/sbin)
    auto refused = run_executor(request(R"({"commandLine":"true","env":[]})", egress), l);
    REQUIRE(refused);
    CHECK(refused->run.exit_code == 255);
    CHECK(refused->run.failure_message.find("on PATH") != std::string::npos);
    CHECK(refused->run.started == cordon::CommandStarted::no);
}

// Another run's sandbox with the shared TMPDIR granted read-write rewrites every config.json it
// finds, as the issue measured. The victim is the fake executor, slow to read its config (a
// loaded machine); oracle: the config it actually received.
TEST_CASE("the swap race, with a real sandbox as the attacker: file delivery loses, the descriptor does not") {
    const char* fake = std::getenv("CORDON_FAKE_EXECUTOR");
    REQUIRE(fake != nullptr);
    Tree t("swap");
    const fs::path shared = t.dir("shared"), records = t.dir("records");
    const std::string config = R"({"version":"0.6.0-alpha","process":{"commandLine":"@fake:exit:0"}})";
    const std::string evil =
        R"({"version":"0.6.0-alpha","process":{"commandLine":"@fake:exit:0"},"filesystem":{"readwritePaths":["/"]}})";
    std::ofstream(t.root / "evil.json") << evil;
    cordon::test::hand_to_run_user(t.root);
    const std::string loop = "end=$(($(date +%s)+12)); while [ $(date +%s) -lt $end ]; do for d in " + shared.string() +
                             "/cordon-*; do [ -f \"$d/config.json\" ] && cp " + (t.root / "evil.json").string() +
                             " \"$d/.x\" 2>/dev/null && mv -f \"$d/.x\" \"$d/config.json\" 2>/dev/null; done; done";
    auto attack = request("{}");
    attack.config_json = config_json(loop, boost::json::object{{"readonlyPaths", paths({t.root})},
                                                               {"readwritePaths", paths({shared})}});
    cordon::Result<cordon::posix::ProcessResult> attacker = cordon::make_error(cordon::ErrorCode::internal, "not run");
    std::thread attacker_thread([&] { attacker = run_executor(attack, launch()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the loop is running by now

    auto victim = [&](cordon::ConfigDelivery how, const std::string& name) {
        cordon::detail::RunRequest req;
        req.config_json = config;
        req.executor_path = fs::absolute(fake).string();
        req.sdk_version = "0.9.0";
        req.timeout_ms = 30000;
        req.options.delivery = how;
        req.options.run_as = cordon::test::run_as_for_tests();  // the same user as the attacker's sandbox
        ExecutorLaunch l;
        l.env = {"FAKE_EXECUTOR_RECORD=" + (records / name).string(), "FAKE_EXECUTOR_DELAY_MS=1500"};
        l.config_parent_dir = shared.string();
        auto r = run_executor(req, l);
        REQUIRE(r);
        std::ifstream in(records / name);
        std::string line;
        std::getline(in, line);
        return std::string(boost::json::parse(line).at("config").as_string());
    };
    const std::string by_file = victim(cordon::ConfigDelivery::file, "file");
    const std::string by_descriptor = victim(cordon::ConfigDelivery::descriptor, "descriptor");
    attacker_thread.join();
    REQUIRE(attacker);
    CHECK(by_file == evil);  // control: the attack is real
    CHECK(by_descriptor == config);
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
    auto verified = cordon::verify_executor(executor);
    if (!verified) {
        std::cout << "FAIL: " << executor.string() << " is not a pinned executor: " << verified.error().to_string() << "\n";
        return 1;
    }
    sdk = std::string(verified->sdk_version());
    contract = sdk == "1.0.1" ? "1.0.0" : sdk == "0.9.0" ? "0.9.0-alpha" : "0.6.0-alpha";
    std::cout << "testing the runner with " << executor.string() << " (SDK " << sdk << ", contract " << contract << ")\n";
    executor_fd = ::open(executor.c_str(), O_RDONLY | O_CLOEXEC);
    doctest::Context context(argc, argv);
    return context.run();
}
