// SPDX-License-Identifier: MIT
// `cordon run` end to end with the real executor: exit codes, --json, --dry-run, refusals, stdin,
// streamed output, signals (the whole tree dies, TMPDIR stays clean) and the run-as user.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

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
#include <boost/json/serialize.hpp>

#include "../support/process_gone.hpp"
#include "../support/run_command.hpp"
#include "../support/test_user.hpp"
#include "cordon/executor.hpp"
#include "cordon/mxc_codec.hpp"
#include "cordon/verified_executor.hpp"

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

using cordon::test::sleeps_with;

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
    // cordon says it once; lxc-exec's own {"error":...} object is not passed on to stderr
    CHECK(r.err == "cordon run: timed out; the whole process tree was killed\n");
    r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--timeout", "600", "--", "sleep", "30"});
    CHECK(r.exit_code == 124);
    CHECK(r.out.find("timed out after") != std::string::npos);  // the result still has it, in its stderr
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

// The contract cordon emits for the executor under test (MXC_BIN_DIR): 1.0.0 for SDK 1.0.1, 0.9.0-alpha for 0.9.0.
std::string emitted_contract() {
    auto exe = cordon::open_trusted_executor({});
    REQUIRE_MESSAGE(exe.has_value(), exe.error().to_string());
    cordon::Policy minimal;
    minimal.process.command_line = "true";
    return std::string(cordon::choose_contract(minimal, exe->sdk_version()).value()->version);
}

TEST_CASE("--json prints one object with the result, the config and the clamp report") {
    Work w;
    auto r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--ro", "/etc/hostname-not-granted", "--", "echo",
                            "hi"});
    CHECK(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    CHECK(v.at("stdout") == "hi\n");
    CHECK(v.at("cordon_exit") == 0);
    CHECK(v.at("config").at("version").as_string() == emitted_contract());
    CHECK(v.at("config").at("process").at("env").as_array().empty());  // spelled out: nothing inherited
    CHECK(v.at("started") == "yes");
    CHECK(v.at("report").at("summary").at("dropped").as_int64() >= 1);
    CHECK(v.at("invocation").as_array().size() >= 3);
}

TEST_CASE("--json holds the whole kept output: past the streamed head, within the cap, binary as base64") {
    // --json streams stdout and stderr into cordon (the backend keeps only their first 64 KiB), so
    // every byte of the JSON's output comes from those streams.
    Work w;
    const std::string make = "yes 0123456789abcdef | head -c 300000";
    auto r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--", "sh", "-c", make});
    REQUIRE(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    std::string expected;
    while (expected.size() < 300000) expected += "0123456789abcdef\n";
    expected.resize(300000);
    CHECK(v.at("stdout").as_string() == expected);
    CHECK(v.at("stdout_dropped") == 0);

    r = cordon_run(w, {"--json", "--output-limit", "100000", "--rw", w.dir.string(), "--", "sh", "-c", make});
    REQUIRE(r.exit_code == 0);
    v = boost::json::parse(r.out);
    CHECK(v.at("stdout").as_string() == expected.substr(0, 100000));
    CHECK(v.at("stdout_dropped") == 200000);

    r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--", "sh", "-c", make + " >&2; echo out"});
    REQUIRE(r.exit_code == 0);
    v = boost::json::parse(r.out);
    CHECK(v.at("stderr").as_string() == expected);
    CHECK(v.at("stdout") == "out\n");

    r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--", "printf", "\\377\\001ab"});
    REQUIRE(r.exit_code == 0);
    v = boost::json::parse(r.out);
    CHECK(v.at("stdout_b64") == "/wFhYg==");
    CHECK_FALSE(v.as_object().contains("stdout"));
}

TEST_CASE("--json: refusals, an untrusted executor and a timeout are JSON on stdout, with the same exit status") {
    Work w;
    auto object = [](const cordon::test::CommandResult& r) {
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.err.empty());
        auto v = boost::json::parse(r.out);
        CHECK(v.at("cordon_exit").as_int64() == r.exit_code);
        return v;
    };
    auto r = cordon_run(w, {"--json", "--rw", (w.dir / "missing").string(), "--", "true"});
    CHECK(r.exit_code == 125);
    CHECK(object(r).at("error").at("message").as_string().find("does not exist") != std::string::npos);
    fs::path copy = w.dir / "lxc-exec";
    fs::copy_file(cordon::resolve_executor()->path, copy);
    std::ofstream(copy, std::ios::app | std::ios::binary) << "x";
    r = cordon_run(w, {"--json", "--executor", copy.string(), "--", "true"});
    CHECK(r.exit_code == 126);
    CHECK(object(r).at("error").at("code") == "untrusted-executor");
    r = cordon_run(w, {"--json", "--rw", w.dir.string(), "--timeout", "600", "--", "sleep", "30"});
    CHECK(r.exit_code == 124);
    CHECK(object(r).at("timed_out") == true);
}

TEST_CASE("--dry-run prints the config and the invocation and runs nothing") {
    Work w;
    auto r = cordon_run(w, {"--dry-run", "--rw", w.dir.string(), "--cwd", w.dir.string(), "--", "touch", "ran"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("config: {\"version\":\"" + emitted_contract() + "\"") != std::string::npos);
    CHECK(r.out.find("invocation: lxc-exec --config") != std::string::npos);
    CHECK_FALSE(fs::exists(w.dir / "ran"));
}

TEST_CASE("--egress: the grant under CORDON_EGRESS_ALLOW reaches the config narrowed; bad or silent grants exit 125") {
    Work w;
    auto vars = w.ceiling();
    vars.push_back("CORDON_EGRESS_ALLOW=198.51.100.0/24:443/tcp");
    auto run = [&](std::vector<std::string> args) { return run_command(cordon_argv(std::move(args)), "", vars); };
    auto r = run({"--dry-run", "--egress", "198.51.0.0/16:443", "--", "true"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto config = boost::json::parse(r.out.substr(r.out.find('{'), r.out.find("\ninvocation:") - r.out.find('{')));
    CHECK(boost::json::serialize(config.at("network").at("egress")) ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"198.51.100.0/24"}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
    // With the network off (nothing asked) nothing but a closed network: no rules, no slirp4netns.
    r = run({"--dry-run", "--", "true"});
    REQUIRE(r.exit_code == 0);
    config = boost::json::parse(r.out.substr(r.out.find('{'), r.out.find("\ninvocation:") - r.out.find('{')));
    const auto* net = config.as_object().if_contains("network");
    CHECK((!net || !net->as_object().contains("egress") ||
           (!net->at("egress").as_object().contains("allow") && !net->at("egress").as_object().contains("deny"))));
    r = run({"--egress", "198.51.100.1/24:443", "--", "true"});
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("--egress: \"198.51.100.1/24:443\": not an address or CIDR block") != std::string::npos);
    CHECK(r.err.find("host part of address was not zero") != std::string::npos);
    vars.back() = "CORDON_EGRESS_ALLOW=0.0.0.0/0,127.0.0.1/32,2001:db8::/32";  // names loopback: past the host rule
    for (const char* silent : {"127.0.0.1:8080", "10.0.2.2:80", "[2001:db8::7]:443"}) {
        CAPTURE(std::string(silent));
        r = run({"--egress", silent, "--", "true"});
        CHECK(r.exit_code == 125);
        CHECK(r.err.find("backend-unsupported") != std::string::npos);
        CHECK(r.err.find("would never be reached on bubblewrap") != std::string::npos);
    }
}

TEST_CASE("probe reports the backend, the verified executor and measured capabilities") {
    auto r = run_command({required_env("CORDON_EXE"), "probe"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("backend: bubblewrap") != std::string::npos);
    CHECK(r.out.find("host filtering      NO") != std::string::npos);
    CHECK(r.out.find("capabilities at contract " + emitted_contract()) != std::string::npos);
    CHECK(r.out.find("egress rules        yes") != std::string::npos);  // a directional row, both SDKs
    CHECK(r.out.find("ingress allow       NO") != std::string::npos);
    CHECK(r.out.find("(measured)") != std::string::npos);
    r = run_command({required_env("CORDON_EXE"), "probe", "--json"});
    CHECK(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    CHECK(v.at("ready") == true);
    CHECK(v.at("executor").at("sha256").as_string().size() == 64);
    CHECK(v.at("capabilities").at("read_allowlist") == true);
    CHECK(v.at("capabilities").at("egress_rules") == true);
    r = run_command({required_env("CORDON_EXE"), "probe", "--executor", "/nonexistent/lxc-exec"});
    CHECK(r.exit_code == 3);
}

TEST_CASE("probe reports the network helpers as the executor will find them, and /dev/net/tun for its user") {
    auto r = run_command({required_env("CORDON_EXE"), "probe", "--json"});
    REQUIRE(r.exit_code == 0);
    auto v = boost::json::parse(r.out);
    const std::string path(v.at("executor_path").as_string());
    CHECK(path.find("/usr/local") == std::string::npos);
    const auto& tools = v.at("network_tools").as_array();
    std::vector<std::string> names;
    for (const auto& t : tools) {
        const std::string name(t.at("name").as_string());
        names.push_back(name);
        // The oracle: the shell's own PATH search over the same directories (execvp's order).
        auto which = run_command({"/bin/sh", "-c", "PATH=" + path + " command -v " + name});
        const bool found = which.exit_code == 0;
        CHECK_MESSAGE(t.at("usable").as_bool() == found, name);  // the system's own tools are root's
        if (found) CHECK(which.out == std::string(t.at("path").as_string()) + "\n");
        else CHECK(std::string(t.at("problem").as_string()).find("not installed") != std::string::npos);
    }
    CHECK(names == std::vector<std::string>{"slirp4netns", "iptables", "ip6tables", "iptables-restore",
                                            "ip6tables-restore", "ip", "nsenter", "unshare"});
    const auto& devices = v.at("network_devices").as_array();
    REQUIRE(devices.size() == 1);
    CHECK(devices[0].at("path") == "/dev/net/tun");
    struct stat st {};
    if (::stat("/dev/net/tun", &st) == 0) {
        auto uid = static_cast<uid_t>(devices[0].at("uid").as_int64());
        unsigned bits = st.st_uid == uid ? (st.st_mode >> 6) & 7u : st.st_mode & 7u;  // no group of its own here
        CHECK(devices[0].at("usable").as_bool() == ((bits & 6u) == 6u));
    }
    r = run_command({required_env("CORDON_EXE"), "probe"});
    CHECK(r.out.find("network helpers (for egress rules):") != std::string::npos);
    CHECK(r.out.find("executor PATH: " + path + "\n") != std::string::npos);
}

// Issue 14, points 1 and 2: paths typed on the command line are relative to the caller's
// directory, which is also the default cwd when it is granted; whatever the ceiling narrows is
// said, one line per item (--quiet silences it), and --strict refuses instead.
TEST_CASE("relative --rw and --cwd are the caller's directory; the cwd defaults to it when granted") {
    Work w;
    fs::create_directories(w.dir / "sub");
    std::ofstream(w.dir / "sub" / "notes.txt") << "three\nlines\nhere\n";
    cordon::test::hand_to_run_user(w.dir);
    const std::string sub = (w.dir / "sub").string();
    auto r = run_command(cordon_argv({"--rw", ".", "--", "sh", "-c", "pwd; wc -l < notes.txt; echo x > made"}), "",
                         w.ceiling(), sub);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == sub + "\n3\n");  // it ran in the caller's directory, with it granted
    CHECK(fs::exists(w.dir / "sub" / "made"));
    CHECK(r.err.empty());              // nothing narrowed, nothing said
    r = run_command(cordon_argv({"--rw", "..", "--cwd", ".", "--", "pwd"}), "", w.ceiling(), sub);
    CHECK(r.exit_code == 0);
    CHECK(r.out == sub + "\n");
    // Outside every grant the caller's directory is not the cwd: the executor's default applies,
    // without a line (the caller did not ask for it).
    r = run_command(cordon_argv({"--rw", sub, "--", "pwd"}), "", w.ceiling(), "/");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "/\n");
    CHECK(r.err.empty());
}

TEST_CASE("JSON requests stay strict: a relative path in a request file is dropped, not resolved") {
    Work w;
    auto r = run_command({required_env("CORDON_EXE"), "clamp", "--ceiling-env", "-"},
                         R"({"version":"0.6.0-alpha","process":{"commandLine":"true"},"filesystem":{"readwritePaths":["."]}})",
                         {w.env()}, w.dir.string());
    CHECK(r.exit_code == 0);
    CHECK(r.err.find(R"("requested":".","verdict":"dropped")") != std::string::npos);
    CHECK(r.out.find(w.dir.string()) == std::string::npos);
}

TEST_CASE("each dropped or narrowed item gets one stderr line; --quiet silences them; --strict refuses") {
    Work w;
    const std::string marker = (w.dir / "ran").string();
    auto r = cordon_run(w, {"--rw", w.dir.string(), "--ro", "/etc", "--env", "SECRET_TOKEN=hunter2", "--cwd", "/usr",
                            "--", "sh", "-c", "touch " + marker + "; echo ran"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ran\n");
    CHECK(r.err == "cordon run: --ro /etc: dropped: outside every ceiling root\n"
                   "cordon run: --cwd /usr: dropped: not within any granted path after clamping\n"
                   "cordon run: --env SECRET_TOKEN: dropped: not in the ceiling's env allow-list\n");
    CHECK(r.err.find("hunter2") == std::string::npos);  // a variable's value is never echoed
    fs::remove(marker);
    r = cordon_run(w, {"--quiet", "--rw", w.dir.string(), "--ro", "/etc", "--", "true"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    r = cordon_run(w, {"--strict", "--rw", w.dir.string(), "--ro", "/etc", "--", "touch", marker});
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("cordon run: --ro /etc: dropped") != std::string::npos);
    CHECK(r.err.find("refused (--strict)") != std::string::npos);
    CHECK_FALSE(fs::exists(marker));  // nothing ran
    r = cordon_run(w, {"--strict", "--rw", w.dir.string(), "--", "touch", marker});  // nothing narrowed: it runs
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(marker));
    r = cordon_run(w, {"--strict", "--json", "--rw", w.dir.string(), "--timeout", "5000", "--", "true"},
                   "");
    CHECK(r.exit_code == 0);  // the ceiling sets no timeout: 5000 is kept
}

TEST_CASE("a narrowed timeout and a downgraded grant say what they became") {
    Work w;
    fs::create_directories(w.dir / "ro");
    cordon::test::hand_to_run_user(w.dir);
    const auto vars = with_run_as({"CORDON_READONLY_PATHS=" + (w.dir / "ro").string(), "CORDON_TIMEOUT_MS=20000"});
    auto r = run_command(cordon_argv({"--rw", "ro", "--timeout", "60000", "--", "true"}), "", vars, w.dir.string());
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("cordon run: --rw ro (" + (w.dir / "ro").string() + "): downgraded to " +
                     (w.dir / "ro").string()) != std::string::npos);
    CHECK(r.err.find("cordon run: --timeout 60000: narrowed to 20000: the ceiling's limit") != std::string::npos);
    r = run_command(cordon_argv({"--strict", "--json", "--timeout", "60000", "--", "true"}), "", vars);
    CHECK(r.exit_code == 125);
    auto v = boost::json::parse(r.out);
    CHECK(v.at("cordon_exit") == 125);
    CHECK(v.at("notices").at(0).as_string().starts_with("--timeout 60000: narrowed to 20000"));
}

// Issue 14, point 10: the system ceiling with cordon run, and the presets doing their jobs.
TEST_CASE("cordon run takes the system ceiling when given no other, names it, and refuses one that is not root's") {
    Work w;
    // A directory of its own (root's when the test runs as root), not under the test user's w.dir.
    const fs::path dir = fs::canonical(fs::temp_directory_path()) / ("cordon-etc-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    struct Cleanup { fs::path p; ~Cleanup() { fs::remove_all(p); } } cleanup{dir};
    const fs::path file = dir / "ceiling.json";
    std::string run_as = ::geteuid() == 0 ? R"(,"runAs":")" + cordon::test::test_user()->name + "\"" : "";
    std::ofstream(file) << R"({"readwritePaths":[")" << w.dir.string() << "\"]" << run_as << "}";
    fs::permissions(file, fs::perms(0644));
    const std::string sys = "CORDON_SYSTEM_CEILING=" + file.string();
    auto r = run_command(cordon_argv({"--json", "--rw", w.dir.string(), "--", "true"}), "", {sys});
    if (::geteuid() != 0) {
        CHECK(r.exit_code == 125);  // ours, not root's: refused, and nothing else is used instead
        CHECK(r.out.find("not root") != std::string::npos);
        return;
    }
    REQUIRE(::geteuid() == 0);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(boost::json::parse(r.out).at("report").at("ceiling") == file.string().c_str());
    r = run_command(cordon_argv({"--json", "--rw", w.dir.string(), "--", "true"}), "", with_run_as({sys, w.env()}));
    CHECK(r.exit_code == 0);
    CHECK(boost::json::parse(r.out).at("report").at("ceiling") == "environment CORDON_*");  // the caller's CORDON_*
    fs::permissions(file, fs::perms(0666));
    r = run_command(cordon_argv({"--rw", w.dir.string(), "--", "touch", (w.dir / "ran").string()}), "", {sys});
    CHECK(r.exit_code == 125);
    CHECK(r.err.find("system ceiling is writable by its group or by others") != std::string::npos);
    CHECK_FALSE(fs::exists(w.dir / "ran"));
}

namespace {

// A HOME with ~/src/proj, usable by the sandbox's user under a preset (presets name no runAs:
// as root that user is nobody).
struct PresetHome {
    fs::path home;
    PresetHome() {
        home = fs::canonical(fs::temp_directory_path()) / ("cordon-preset-" + std::to_string(::getpid()));
        fs::remove_all(home);
        fs::create_directories(home / "src" / "proj");
    }
    ~PresetHome() { fs::remove_all(home); }
    fs::path proj() const { return home / "src" / "proj"; }
    void hand_over() const {
        if (::geteuid() == 0) cordon::test::hand_to_run_user(home, cordon::RunAs{65534, 65534});
    }
    cordon::test::CommandResult run(const std::string& preset, std::vector<std::string> args) const {
        std::vector<std::string> argv{"--ceiling", required_env("CORDON_SOURCE_DIR") + "/presets/" + preset};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(cordon_argv(argv), "", {"HOME=" + home.string()}, proj().string());
    }
};

}  // namespace

TEST_CASE("the presets run their jobs in the real sandbox, and bound them") {
    PresetHome h;
    std::ofstream(h.proj() / "notes.txt") << "hello from the project\n";
    std::ofstream(h.proj() / "hello.py") << "print(open('notes.txt').read().strip())\nopen('out.txt', 'w').write('made')\n";
    std::ofstream(h.proj() / "m.c") << "int main(void) { return 0; }\n";
    REQUIRE(run_command({"git", "-C", h.proj().string(), "init", "-q"}).exit_code == 0);
    REQUIRE(run_command({"git", "-C", h.proj().string(), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                         "--allow-empty", "-m", "first commit"}).exit_code == 0);
    h.hand_over();

    auto r = h.run("python-project.json", {"--rw", ".", "--", "python3", "hello.py"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "hello from the project\n");
    CHECK(fs::exists(h.proj() / "out.txt"));
    r = h.run("python-project.json", {"--rw", ".", "--", "python3", "-c", "open('/etc/cordon-preset-test', 'w')"});
    CHECK(r.exit_code != 0);  // nothing outside the project
    r = h.run("node-project.json", {"--rw", ".", "--", "node", "-e", "require('fs').writeFileSync('n.txt', 'ok')"});
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(h.proj() / "n.txt"));
    r = h.run("git-readonly.json", {"--ro", ".", "--", "git", "log", "--format=%s"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "first commit\n");
    r = h.run("git-readonly.json", {"--rw", ".", "--", "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit",
                                    "-q", "--allow-empty", "-m", "second"});
    CHECK(r.exit_code != 0);  // read-only: --rw was downgraded, and said so
    CHECK(r.err.find("--rw . (" + h.proj().string() + "): downgraded") != std::string::npos);
    // A build needs PATH (gcc finds cc1 through it); the build preset lets a request set it.
    r = h.run("build-with-cache.json", {"--rw", ".", "--env", "PATH=/usr/bin:/bin", "--", "sh", "-c",
                                        "cc -o m m.c && ./m && echo built"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "built\n");
    r = h.run("python-project.json", {"--rw", ".", "--env", "PATH=/usr/bin:/bin", "--", "true"});
    CHECK(r.err.find("--env PATH: dropped") != std::string::npos);  // not in the other presets
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
