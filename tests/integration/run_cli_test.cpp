// SPDX-License-Identifier: MIT
// `cordon run` end to end with the real executor: exit codes, --json, --dry-run, refusals, stdin,
// streamed output, signals (the whole tree dies, TMPDIR stays clean) and the run-as user.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "../support/process_gone.hpp"
#include "../support/run_command.hpp"
#include "../support/test_user.hpp"
#include "cordon/executor.hpp"

namespace fs = std::filesystem;
using cordon::test::required_env;
using cordon::test::run_command;

namespace {

using Clock = std::chrono::steady_clock;

struct Work {
    fs::path dir;
    Work() {
        dir = fs::canonical(fs::temp_directory_path()) / ("cordon-run-cli-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        cordon::test::hand_to_run_user(dir);  // as root the sandbox runs as the test user
    }
    ~Work() { fs::remove_all(dir); }
    std::string env() const { return "CORDON_READWRITE_PATHS=" + dir.string(); }
    // The environment ceiling: this directory, and as root the test user as the sandbox's user.
    std::vector<std::string> ceiling() const;
};

// As root, the ceiling names the test user as the sandbox's user.
std::vector<std::string> with_run_as(std::vector<std::string> vars) {
    if (::geteuid() == 0) vars.push_back("CORDON_RUN_AS=" + cordon::test::test_user()->name);
    return vars;
}

std::vector<std::string> cordon_argv(std::vector<std::string> args) {
    std::vector<std::string> argv{required_env("CORDON_EXE"), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::vector<std::string> Work::ceiling() const { return with_run_as({env()}); }

cordon::test::CommandResult cordon_run(const Work& w, std::vector<std::string> args, const std::string& input = "") {
    return run_command(cordon_argv(std::move(args)), input, w.ceiling());
}

// A started `cordon run` whose stdout the test reads as it comes.
struct Started {
    pid_t pid = -1;
    int out = -1;
    Started(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 0);
            ::dup2(p[1], 1);
            ::close(p[0]);
            ::close(p[1]);
            for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
            std::vector<char*> a;
            for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
            a.push_back(nullptr);
            ::execv(a[0], a.data());
            ::_exit(127);
        }
        ::close(p[1]);
        out = p[0];
    }
    ~Started() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(out);
    }
    /// Reads stdout until `what` appeared; when it did, or nullopt after `seconds`.
    std::optional<Clock::time_point> wait_for(const std::string& what, std::string& seen, int seconds = 60) {
        auto until = Clock::now() + std::chrono::seconds(seconds);
        while (Clock::now() < until) {
            if (seen.find(what) != std::string::npos) return Clock::now();
            pollfd p{out, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(out, buf, sizeof buf);
            if (n <= 0) return std::nullopt;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return std::nullopt;
    }
    int wait() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

// Host pids whose command line is exactly `sleep <arg>`.
std::vector<int> sleeps_with(const std::string& arg) {
    const std::string cmdline = std::string("sleep\0", 6) + arg + std::string("\0", 1);
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

TEST_CASE("`echo x | cordon run -- cat` prints x: stdin is passed through") {
    Work w;
    auto r = cordon_run(w, {"--rw", w.dir.string(), "--", "cat"}, "x\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "x\n");
    r = cordon_run(w, {"--stdin", "null", "--rw", w.dir.string(), "--", "cat"}, "x\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
}

TEST_CASE("output streams as it comes: a line printed at 0 s arrives long before the command ends") {
    Work w;
    Started run(cordon_argv({"--rw", w.dir.string(), "--", "sh", "-c", "echo early; sleep 3; echo late"}), w.ceiling());
    std::string seen;
    auto start = Clock::now();
    auto early = run.wait_for("early\n", seen);
    REQUIRE(early);
    auto late = run.wait_for("late\n", seen);
    REQUIRE(late);
    CHECK(run.wait() == 0);
    // Behaviour with generous bounds, not a benchmark: the sandbox starts in well under a second.
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*early - start).count() < 2500);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*late - *early).count() >= 2500);
}

TEST_CASE("as root, a ceiling that names no user runs the sandbox as nobody, and its grants must suit nobody") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: the default concerns root");
        return;
    }
    Work w;  // handed to the test user, which nobody cannot write
    auto r = run_command({required_env("CORDON_EXE"), "run", "--rw", w.dir.string(), "--", "touch",
                          (w.dir / "ran").string()},
                         "", {w.env()});
    CHECK(r.exit_code == 125);  // refused before anything ran
    CHECK(r.err.find("cannot write") != std::string::npos);
    CHECK(r.err.find("runAs") != std::string::npos);
    CHECK_FALSE(fs::exists(w.dir / "ran"));
    // A directory nobody owns: the sandbox runs, and what it writes is nobody's on the host.
    const fs::path mine = w.dir / "nobodys";
    fs::create_directories(mine);
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody);
    REQUIRE(::chown(mine.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    r = run_command({required_env("CORDON_EXE"), "run", "--rw", mine.string(), "--", "sh", "-c",
                     "touch " + (mine / "made").string() + "; id -u"},
                    "", {"CORDON_READWRITE_PATHS=" + mine.string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::to_string(nobody->pw_uid) + "\n");
    struct stat st {};
    REQUIRE(::stat((mine / "made").c_str(), &st) == 0);
    CHECK(st.st_uid == nobody->pw_uid);  // host-side: not root's
    r = cordon_run(w, {"--rw", w.dir.string(), "--", "sh", "-c", "id -u"});  // runAs names the test user
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::to_string(cordon::test::test_user()->uid) + "\n");
}

TEST_CASE("SIGTERM, SIGINT, SIGHUP: the whole tree dies (by pid), nothing stays in TMPDIR, exit 128+signal") {
    Work w;
    const fs::path tmp = w.dir / "tmpdir";  // TMPDIR of cordon, outside the grant below
    fs::create_directories(tmp);
    ::chmod(tmp.c_str(), 01777);
    const fs::path granted = w.dir / "granted";
    fs::create_directories(granted);
    cordon::test::hand_to_run_user(granted);
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        for (const char* delivery : {"--config-file", ""}) {
            CAPTURE(sig);
            CAPTURE(delivery);
            const std::string marker = "60." + std::to_string(::getpid()) + std::to_string(sig) + (*delivery ? "1" : "2");
            std::vector<std::string> args{"--rw", granted.string()};
            if (*delivery) args.push_back(delivery);
            args.insert(args.end(), {"--", "sh", "-c", "sleep " + marker + " & sleep " + marker + "; wait"});
            Started run(cordon_argv(args), with_run_as({"CORDON_READWRITE_PATHS=" + granted.string(), "TMPDIR=" + tmp.string()}));
            std::vector<int> sleepers;
            for (auto until = Clock::now() + std::chrono::seconds(30); sleepers.size() < 2 && Clock::now() < until;) {
                sleepers = sleeps_with(marker);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            REQUIRE(sleepers.size() == 2);
            if (*delivery) CHECK_FALSE(fs::is_empty(tmp));  // the private file exists while it runs
            REQUIRE(::kill(run.pid, sig) == 0);
            CHECK(run.wait() == 128 + sig);
            for (int pid : sleepers) CHECK(cordon::test::becomes_gone(pid));
            CHECK(fs::is_empty(tmp));
        }
}

TEST_CASE("control: SIGKILL cannot be handled, so a private config file stays behind; the descriptor leaves nothing") {
    Work w;
    const fs::path tmp = w.dir / "tmpdir";
    fs::create_directories(tmp);
    ::chmod(tmp.c_str(), 01777);
    const fs::path granted = w.dir / "granted";  // TMPDIR must lie outside every grant for a file
    fs::create_directories(granted);
    cordon::test::hand_to_run_user(granted);
    for (bool file : {true, false}) {
        CAPTURE(file);
        std::vector<std::string> args{"--rw", granted.string()};
        if (file) args.push_back("--config-file");
        args.insert(args.end(), {"--", "sh", "-c", "echo started; sleep 60"});
        Started run(cordon_argv(args), with_run_as({"CORDON_READWRITE_PATHS=" + granted.string(), "TMPDIR=" + tmp.string()}));
        std::string seen;
        REQUIRE(run.wait_for("started\n", seen));
        REQUIRE(::kill(run.pid, SIGKILL) == 0);
        CHECK(run.wait() == 128 + SIGKILL);
        CHECK(fs::is_empty(tmp) == !file);  // the oracle sees a leftover when there is one
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(tmp, ec)) fs::remove_all(e.path(), ec);
    }
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

TEST_CASE("the verification cache: the second call skips the hash; --no-verify-cache and CORDON_VERIFY_CACHE=off do not") {
    // Private to this process: the granted directory belongs to the sandbox's user, which must not
    // be able to write the cache.
    const fs::path xdg = fs::canonical(fs::temp_directory_path()) / ("cordon-run-cli-xdg-" + std::to_string(::getpid()));
    fs::remove_all(xdg);
    fs::create_directory(xdg);
    const fs::path cache = xdg / "cordon" / "verified-executors";
    const std::string env = "XDG_CACHE_HOME=" + xdg.string();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // a just-copied executor settles first
    auto verified_by = [&](std::vector<std::string> extra_env) {
        extra_env.push_back(env);
        auto r = run_command({required_env("CORDON_EXE"), "probe", "--json"}, "", extra_env);
        REQUIRE(r.exit_code == 0);
        return std::string(boost::json::parse(r.out).at("executor").at("verified").as_string());
    };
    Work w;
    std::vector<std::string> ceiling = w.ceiling();
    ceiling.push_back(env);
    auto r = run_command(cordon_argv({"--no-verify-cache", "--rw", w.dir.string(), "--", "true"}), "", ceiling);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(fs::exists(cache));  // off: nothing remembered
    r = run_command(cordon_argv({"--rw", w.dir.string(), "--", "true"}), "", ceiling);
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(cache));
    CHECK(verified_by({}) == "cache");
    CHECK(verified_by({"CORDON_VERIFY_CACHE=off"}) == "hashed");
    fs::permissions(cache, fs::perms::others_write, fs::perm_options::add);  // anyone could have written it
    CHECK(verified_by({}) == "hashed");
    CHECK(verified_by({}) == "cache");  // replaced by a private one
    fs::remove_all(xdg);
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
