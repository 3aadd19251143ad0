// SPDX-License-Identifier: MIT
// Hostile workloads and careless operators against `cordon run` with the real executor: each case
// is an attack from the adversarial review, with a host-side oracle (file contents and owners, what
// a listener received, /proc) and a control run showing the probe would have worked. Runs as root
// (the sandbox then runs as the test user, named by the ceiling) and as that user (as_test_user.sh).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/process_gone.hpp"
#include "../support/run_command.hpp"
#include "../support/test_user.hpp"

namespace fs = std::filesystem;
using cordon::test::CommandResult;
using cordon::test::required_env;
using cordon::test::run_command;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// A lab: op/ is the operator's (ceilings, victims; root's or ours, 0755), box/ is the sandbox's
// read-write root (handed to the sandbox's user).
struct Lab {
    fs::path root, op, box;
    Lab() {
        std::string t = (fs::temp_directory_path() / "cordon-hostile-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        root = fs::canonical(t);
        fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        op = root / "op";
        box = root / "box";
        fs::create_directories(op);
        fs::create_directories(box);
        cordon::test::hand_to_run_user(box);
    }
    ~Lab() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    // A box path handed to the sandbox's user, after the test made it.
    void give(const fs::path& p) const { cordon::test::hand_to_run_user(p); }
};

// As root the ceiling names the test user; otherwise the sandbox runs as us.
std::string run_as_field() {
    return ::geteuid() == 0 ? "\"runAs\":\"" + cordon::test::test_user().value().name + "\"," : "";
}
std::vector<std::string> run_as_env() {
    if (::geteuid() != 0) return {};
    return {"CORDON_RUN_AS=" + cordon::test::test_user().value().name};
}

fs::path ceiling_file(const Lab& lab, const std::string& body, const std::string& name = "ceiling.json") {
    fs::path p = lab.op / name;
    spit(p, "{" + run_as_field() + body + "}");
    return p;
}

CommandResult run_cordon(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv{required_env("CORDON_EXE")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, "", env);
}

std::string box_json(const Lab& lab) { return "\"readwritePaths\":[\"" + lab.box.string() + "\"]"; }

}  // namespace

TEST_CASE("trust anchor: a ceiling with a second hard link inside a writable grant is refused") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab));
    const std::string before = slurp(c);
    fs::path link = lab.box / "ceiling.json";
    REQUIRE(::link(c.c_str(), link.c_str()) == 0);
    auto r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "sh", "-c",
                     "echo '{\"readwritePaths\":[\"/\"]}' > " + link.string()});
    CHECK(r.exit_code == 125);
    CHECK(contains(r.err, "hard links"));
    CHECK(slurp(c) == before);  // the operator's ceiling is unchanged
    // Control: with one link the same command runs and writes its own file in the grant.
    fs::remove(link);
    r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "sh", "-c",
                "echo widened > " + link.string()});
    CHECK(r.exit_code == 0);
    CHECK(slurp(link) == "widened\n");
    CHECK(slurp(c) == before);
}

TEST_CASE("trust anchor: a ceiling others can write is refused; a FIFO is refused at once") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab));
    fs::permissions(c, fs::perms::others_write, fs::perm_options::add);
    auto r = run_cordon({"run", "--ceiling", c.string(), "--", "touch", (lab.box / "ran").string()});
    CHECK(r.exit_code == 125);
    CHECK(contains(r.err, "writable by its group or by others"));
    CHECK_FALSE(fs::exists(lab.box / "ran"));
    fs::permissions(c, fs::perms::others_write, fs::perm_options::remove);  // control
    r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "touch", (lab.box / "ran").string()});
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(lab.box / "ran"));

    fs::path fifo = lab.op / "fifo.json";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    r = run_cordon({"run", "--ceiling", fifo.string(), "--", "true"});
    CHECK(r.exit_code == 125);
    CHECK(contains(r.err, "FIFO"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));  // nobody ever opened it to write
}

TEST_CASE("operator input: --ceiling together with CORDON_* is refused, and so is an empty prefix") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab));
    std::vector<std::string> env = run_as_env();
    env.push_back("CORDON_READWRITE_PATHS=/");
    auto r = run_cordon({"run", "--ceiling", c.string(), "--", "touch", (lab.box / "ran").string()}, env);
    CHECK(r.exit_code == 125);
    CHECK(contains(r.err, "CORDON_READWRITE_PATHS"));
    CHECK_FALSE(fs::exists(lab.box / "ran"));
    r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "touch", (lab.box / "ran").string()});
    CHECK(r.exit_code == 0);  // control: the file alone
    fs::path request = lab.op / "request.json";
    spit(request, R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})");
    r = run_cordon({"clamp", "--ceiling-env=", request.string()}, {"NETWORK=allow"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "must end in '_'"));
    r = run_cordon({"clamp", "--ceiling-env", "CORDON_", request.string()}, {"CORDON_NETWORK=block"});
    CHECK(r.exit_code == 0);  // control: a real prefix
}

TEST_CASE("files cordon writes: a character device or the caller's stdout at --report is written, a planted FIFO replaced") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab));
    auto report_to = [&](const std::string& target) {
        return run_cordon({"run", "--ceiling", c.string(), "--report", target, "--dry-run", "--", "true"});
    };
    // A FIFO, as a sandbox that can write the directory could plant it to hold or drop the report:
    // replaced by the report file like a planted link. The test holds both ends (O_RDWR): nothing
    // reaches the pipe, and the read does not block.
    fs::path fifo = lab.box / "report.json";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto r = report_to(fifo.string());
    CHECK(r.exit_code == 0);
    char byte = 0;
    CHECK(::read(fd, &byte, 1) < 0);  // EAGAIN: nothing was written into the pipe
    ::close(fd);
    CHECK(fs::is_regular_file(fs::symlink_status(fifo)));
    CHECK(contains(slurp(fifo), "\"decisions\""));
    // The caller's own stdout by name, however it is spelled (what `--report /dev/stdout` and
    // `>(jq .)`'s /dev/fd/N give): written through the descriptor.
    for (const char* name : {"/dev/stdout", "//dev/./stdout", "/dev/fd/1"}) {
        r = report_to(name);
        CHECK_MESSAGE(r.exit_code == 0, name << ": " << r.err);
        CHECK_MESSAGE(contains(r.out, "\"decisions\""), name);
    }
    // A character device: a node like /dev/null in the lab (mknod needs root), which a rename
    // would have replaced by a regular file -- as root, the host's own /dev/null.
    fs::path node = lab.op / "null";
    if (::mknod(node.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0) {
        MESSAGE("not checked without root (mknod of a character device): " << std::string(std::strerror(errno)));
        return;
    }
    r = report_to(node.string());
    CHECK(r.exit_code == 0);
    struct stat st {};
    REQUIRE(::lstat(node.c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == ::makedev(1, 3));
}

TEST_CASE("files cordon writes: --report replaces a planted symlink instead of writing through it") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab));
    fs::path victim = lab.op / "victim.txt";
    spit(victim, "operator data\n");
    fs::path report = lab.box / "report.json";
    fs::create_symlink(victim, report);  // what an earlier sandbox run could leave in its grant
    // A run that goes ahead, and one that is refused after the report was written.
    auto r = run_cordon({"run", "--ceiling", c.string(), "--report", report.string(), "--rw", lab.box.string(), "--",
                     "true"});
    CHECK(r.exit_code == 0);
    CHECK(slurp(victim) == "operator data\n");
    CHECK_FALSE(fs::is_symlink(report));
    CHECK(contains(slurp(report), "\"decisions\""));
    fs::remove(report);
    fs::create_symlink(victim, report);
    r = run_cordon({"run", "--ceiling", c.string(), "--report", report.string(), "--env", "PATH=/x", "--rw",
                lab.box.string(), "--dry-run", "--", "true"});
    CHECK(slurp(victim) == "operator data\n");
    CHECK(contains(slurp(report), "\"dropped\""));
    // Control: a plain name gets the report too (the write itself works).
    fs::remove(report);
    r = run_cordon({"run", "--ceiling", c.string(), "--report", report.string(), "--", "true"});
    CHECK(r.exit_code == 0);
    CHECK(contains(slurp(report), "\"summary\""));
}

TEST_CASE("environment: under `*`, PYTHONPATH cannot make the operator's python3 run the agent's code") {
    Lab lab;
    fs::path c = ceiling_file(lab, box_json(lab) + ",\"env\":{\"allow\":[\"*\"]}");
    fs::path code = lab.box / "sitecustomize.py";
    spit(code, "open('" + (lab.box / "pwned").string() + "', 'w').write('agent code ran')\n");
    lab.give(code);
    std::vector<std::string> run{"run", "--ceiling", c.string(), "--env", "PYTHONPATH=" + lab.box.string(),
                                 "--rw", lab.box.string(), "--", "python3", "-c", "print('operator')"};
    auto r = run_cordon(run);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "operator\n");
    CHECK_FALSE(fs::exists(lab.box / "pwned"));
    // Control: named exactly, the operator's choice stands, and the probe does run the agent's code.
    fs::path exact = ceiling_file(lab, box_json(lab) + ",\"env\":{\"allow\":[\"PYTHONPATH\"]}", "exact.json");
    run[2] = exact.string();
    r = run_cordon(run);
    CHECK(r.exit_code == 0);
    CHECK(slurp(lab.box / "pwned") == "agent code ran");
}

TEST_CASE("trust anchor: --executor given as a symlink anchors the real executor's directory") {
    Lab lab;
    fs::path exe_dir = lab.root / "exe", link_dir = lab.root / "link", other = lab.root / "other";
    for (const auto& d : {exe_dir, link_dir, other}) fs::create_directories(d);
    fs::path exe = exe_dir / "lxc-exec";
    fs::copy_file(fs::path(required_env("MXC_BIN_DIR")) / "x64" / "lxc-exec", exe);
    fs::permissions(exe, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::create_symlink(exe, link_dir / "lxc-exec");
    lab.give(exe_dir.string() + "");  // the directory (not the file) is the sandbox user's: it could replace it
    ::lchown(exe.c_str(), ::geteuid(), ::getegid());
    lab.give(other);
    const std::string before = slurp(exe);
    fs::path c = ceiling_file(lab, "\"readwritePaths\":[\"" + exe_dir.string() + "\",\"" + other.string() + "\"]");
    auto replace = [&](const fs::path& dir) {
        return run_cordon({"run", "--ceiling", c.string(), "--executor", (link_dir / "lxc-exec").string(), "--rw",
                       dir.string(), "--json", "--", "sh", "-c",
                       "echo replaced > " + (dir / "new").string() + " && mv " + (dir / "new").string() + " " +
                           (dir / "lxc-exec").string()});
    };
    auto r = replace(exe_dir);
    CHECK(r.exit_code != 0);
    CHECK(contains(r.out, "would make the executor's directory"));  // downgraded, and the report says why
    CHECK(slurp(exe) == before);                                     // the verified executor is untouched
    r = replace(other);  // control: the same command in a directory that is not an anchor
    CHECK(r.exit_code == 0);
    CHECK(slurp(other / "lxc-exec") == "replaced\n");
}

namespace {

// A copy of the verified executor the sandbox's user can execute by path (the cache under /root
// is private); root-owned (or ours) and 0755, in the lab's operator directory.
fs::path readable_executor(const Lab& lab) {
    fs::path copy = lab.op / "lxc-exec";
    if (!fs::exists(copy)) {
        fs::copy_file(fs::path(required_env("MXC_BIN_DIR")) / "x64" / "lxc-exec", copy);
        fs::permissions(copy, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    }
    return copy;
}

// The executor run directly (no cordon around it), as the sandbox's user, on a config file.
CommandResult lxc_exec_as_sandbox_user(const Lab& lab, const fs::path& config) {
    std::vector<std::string> argv;
    if (::geteuid() == 0)
        argv = {"setpriv", "--reuid=" + cordon::test::test_user()->name, "--regid=" + cordon::test::test_user()->name,
                "--clear-groups"};
    argv.insert(argv.end(), {"env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", readable_executor(lab).string(), "--config",
                             config.string()});
    return run_command(argv);
}

}  // namespace

TEST_CASE("helpers: a bwrap planted in /usr/local/sbin is never run (the executor's PATH is root-only dirs)") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: only root can plant in /usr/local/sbin (which is the point)");
        return;
    }
    Lab lab;
    fs::create_directories("/usr/local/sbin");
    const fs::path planted = "/usr/local/sbin/bwrap", marker = lab.box / "planted-ran";  // writable by both
    REQUIRE_FALSE(fs::exists(planted));
    struct Remove {
        fs::path p;
        ~Remove() { fs::remove(p); }
    } remove{planted};
    spit(planted, "#!/bin/sh\ntouch " + marker.string() + "\nexit 1\n");
    fs::permissions(planted, fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);
    fs::path c = ceiling_file(lab, box_json(lab));
    auto r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "touch",
                     (lab.box / "ran").string()});
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(lab.box / "ran"));
    CHECK_FALSE(fs::exists(marker));
    // Control: the executor itself looks bwrap up on PATH; with /usr/local/sbin first it runs the plant.
    fs::path config = lab.op / "config.json";
    spit(config, R"({"version":"0.9.0-alpha","process":{"commandLine":"true"}})");  // SDK 0.9.0 and 1.0.1 take it
    run_command({"setpriv", "--reuid=" + cordon::test::test_user()->name, "--regid=" + cordon::test::test_user()->name,
                 "--clear-groups", "env", "PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                 readable_executor(lab).string(), "--config", config.string()});
    CHECK(fs::exists(marker));
}

TEST_CASE("denied paths: renaming a parent inside the writable grant cannot move the denied content") {
    Lab lab;
    fs::create_directories(lab.box / "a" / "secret");
    fs::create_directories(lab.box / "c");
    spit(lab.box / "a" / "secret" / "data", "DENIED-CONTENT");
    lab.give(lab.box);
    fs::path c = ceiling_file(lab, box_json(lab) + ",\"deniedPaths\":[\"" + (lab.box / "a" / "secret").string() + "\"]");
    const std::string a = (lab.box / "a").string(), b = (lab.box / "b").string();
    auto r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "sh", "-c",
                     "mv " + (lab.box / "c").string() + " " + (lab.box / "d").string() + "; mv " + a + " " + b +
                         " && mkdir -p " + a + "/secret"});
    CHECK(r.exit_code != 0);
    CHECK(contains(r.err, "busy"));
    CHECK(fs::exists(lab.box / "d"));  // control: an undenied directory could be renamed in the same run
    CHECK_FALSE(fs::exists(b));
    CHECK(slurp(lab.box / "a" / "secret" / "data") == "DENIED-CONTENT");  // where the denial still covers it
    r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "sh", "-c",
                "cat " + b + "/secret/data " + a + "/secret/data 2>/dev/null; true"});
    CHECK_FALSE(contains(r.out, "DENIED-CONTENT"));
}

TEST_CASE("denied paths: a grant below a denial is not mounted over it") {
    Lab lab;
    fs::create_directories(lab.box / "a" / "secret" / "sub");
    spit(lab.box / "a" / "secret" / "sub" / "x", "DENIED-CONTENT");
    spit(lab.box / "open.txt", "open");
    lab.give(lab.box);
    fs::path c = ceiling_file(lab, box_json(lab) + ",\"deniedPaths\":[\"" + (lab.box / "a" / "secret").string() + "\"]");
    auto r = run_cordon({"run", "--ceiling", c.string(), "--ro", (lab.box / "a" / "secret" / "sub").string(), "--ro",
                     (lab.box / "open.txt").string(), "--json", "--", "sh", "-c",
                     "cat " + (lab.box / "a/secret/sub/x").string() + " " + (lab.box / "open.txt").string()});
    CHECK_FALSE(contains(r.out, "\"stdout\":\"DENIED-CONTENT"));
    CHECK(contains(r.out, "lies in ceiling-denied"));
    CHECK(contains(r.out, "\"stdout\":\"open"));  // control: the other grant is read
}


TEST_CASE("swap between check and bind: a grant swapped for a symlink stops the run before the command") {
    // The victim run reads shared/granted and writes out/; a concurrent sandbox that can write shared/
    // (played here by the test) swaps granted for a symlink to a secret between clamp and mount.
    Lab lab;
    const fs::path shared = lab.root / "shared", granted = shared / "granted", out = lab.root / "out";
    fs::create_directories(granted);
    fs::create_directories(out);
    spit(granted / "f", "granted content");
    fs::create_directories(lab.op / "secret");
    spit(lab.op / "secret" / "f", "SECRET-OUTSIDE");
    lab.give(shared);
    lab.give(out);
    fs::path c = ceiling_file(lab, "\"readonlyPaths\":[\"" + shared.string() + "\"],\"readwritePaths\":[\"" +
                                       out.string() + "\"]");
    const fs::path leak = out / "leak";
    // The config cordon would run, with its in-sandbox check, written before the swap.
    auto dry = run_cordon({"run", "--ceiling", c.string(), "--ro", granted.string(), "--rw", out.string(), "--json",
                           "--dry-run", "--", "sh", "-c", "cat " + (granted / "f").string() + " > " + leak.string()});
    REQUIRE(dry.exit_code == 0);
    auto at = dry.out.find("\"config\":");
    REQUIRE(at != std::string::npos);
    std::string config = dry.out.substr(at + 9, dry.out.find(",\"report\":") - at - 9);
    REQUIRE(contains(config, "cordon-bind-check"));
    fs::path with_check = lab.op / "with-check.json", without = lab.op / "without-check.json";
    spit(with_check, config);
    // The control config: the same without the check (which ends in `exit 125; }` and a newline).
    std::string plain = config;
    auto cmd_at = plain.find("\"commandLine\":\"") + 15;
    const std::string check_end = "exit 125; }\\n";
    plain.erase(cmd_at, plain.find(check_end, cmd_at) + check_end.size() - cmd_at);
    spit(without, plain);
    fs::rename(granted, shared / "granted.orig");
    fs::create_directory_symlink(lab.op / "secret", granted);
    auto r = lxc_exec_as_sandbox_user(lab, with_check);
    INFO(r.err);
    CHECK(r.exit_code == 125);
    CHECK(contains(r.err, "cordon-bind-check"));
    CHECK_FALSE(fs::exists(leak));
    r = lxc_exec_as_sandbox_user(lab, without);  // control: without the check the swap leaks the secret
    CHECK(r.exit_code == 0);
    CHECK(slurp(leak) == "SECRET-OUTSIDE");
}

TEST_CASE("concurrent runs: one that could write a parent of another's grant never runs at the same time") {
    Lab lab;
    fs::create_directories(lab.box / "docs");
    spit(lab.box / "docs" / "f", "docs");
    lab.give(lab.box);
    fs::path c = ceiling_file(lab, box_json(lab));
    const std::string nap = "3.217";  // a duration nothing else sleeps: the first run's own command
    pid_t first = ::fork();
    REQUIRE(first >= 0);
    if (first == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::string exe = required_env("CORDON_EXE");
        ::execl(exe.c_str(), exe.c_str(), "run", "--ceiling", c.c_str(), "--rw", lab.box.c_str(), "--", "sh", "-c",
                ("touch " + (lab.op / "first-started").string() + " 2>/dev/null; sleep " + nap).c_str(), nullptr);
        ::_exit(127);
    }
    // Wait until the first run's command runs in its sandbox, so that the run is registered: the
    // exact `sleep 3.217` process (a pattern would also match cordon's own argv, before it registers).
    bool inside = false;
    for (int i = 0; i < 1000 && !(inside = !cordon::test::sleeps_with(nap).empty()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE_MESSAGE(inside, "the first run's command never started");
    auto r = run_cordon({"run", "--ceiling", c.string(), "--ro", (lab.box / "docs").string(), "--", "cat",
                     (lab.box / "docs" / "f").string()});
    CHECK(r.exit_code == 126);
    CHECK(contains(r.err, "another sandbox"));
    CHECK(r.out.empty());
    int status = 0;
    ::waitpid(first, &status, 0);
    r = run_cordon({"run", "--ceiling", c.string(), "--ro", (lab.box / "docs").string(), "--", "cat",
                (lab.box / "docs" / "f").string()});
    CHECK(r.exit_code == 0);  // control: one after the other
    CHECK(r.out == "docs");
}

TEST_CASE("Unix sockets: a listener inside a granted directory is masked unless the ceiling names it") {
    Lab lab;
    const fs::path sock = lab.box / "agent.sock";
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    ::chmod(sock.c_str(), 0777);  // the sandbox's user may connect, as far as the socket's mode goes
    auto accepted = [&] {
        int n = 0;
        while (true) {
            int fd = ::accept(listener, nullptr, nullptr);
            if (fd < 0) break;
            ::close(fd);
            ++n;
        }
        return n;
    };
    const std::string probe = "import socket; s=socket.socket(socket.AF_UNIX); s.connect('" + sock.string() +
                              "'); print('connected')";
    fs::path c = ceiling_file(lab, box_json(lab));
    auto r = run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "python3", "-c", probe});
    CHECK(r.exit_code != 0);
    CHECK(accepted() == 0);  // the listener saw nothing
    fs::path named = ceiling_file(lab, box_json(lab) + ",\"allowedSockets\":[\"" + sock.string() + "\"]", "named.json");
    r = run_cordon({"run", "--ceiling", named.string(), "--rw", lab.box.string(), "--", "python3", "-c", probe});
    CHECK(r.exit_code == 0);  // control: named by the ceiling, it is reachable
    CHECK(r.out == "connected\n");
    CHECK(accepted() == 1);
    ::close(listener);
}

namespace {
// Processes of `uid` now (from /proc).
int processes_of(uid_t uid) {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st {};
        if (::stat(e.path().c_str(), &st) == 0 && st.st_uid == uid) ++n;
    }
    return n;
}
}  // namespace

TEST_CASE("limits from the ceiling: a fork storm is bounded, a big write is cut, each with a control") {
    Lab lab;
    const uid_t sandbox_uid = ::geteuid() == 0 ? cordon::test::test_user()->uid : ::geteuid();
    auto storm = [&](const std::string& limits) {
        fs::path c = ceiling_file(lab, box_json(lab) + ",\"limits\":{" + limits + "}", "storm.json");
        const int before = processes_of(sandbox_uid);
        int peak = 0;
        pid_t pid = ::fork();
        if (pid == 0) {
            int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 1);
            ::dup2(null, 2);
            std::string exe = required_env("CORDON_EXE");
            ::execl(exe.c_str(), exe.c_str(), "run", "--ceiling", c.c_str(), "--", "sh", "-c",
                    "for i in $(seq 300); do sleep 2 & done; wait", nullptr);
            ::_exit(127);
        }
        for (int i = 0; i < 150; ++i) {
            peak = std::max(peak, processes_of(sandbox_uid) - before);
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::waitpid(pid, nullptr, 0);
        return peak;
    };
    CHECK(storm("\"processes\":40") <= 40);
    CHECK(storm("\"processes\":0") > 40);  // control: no limit, the storm gets far more

    fs::path c = ceiling_file(lab, box_json(lab) + ",\"limits\":{\"fileSizeBytes\":1048576}", "fsize.json");
    run_cordon({"run", "--ceiling", c.string(), "--rw", lab.box.string(), "--", "sh", "-c",
            "head -c 4194304 /dev/zero > " + (lab.box / "big").string()});
    CHECK(fs::file_size(lab.box / "big") <= 1048576);
    fs::path open = ceiling_file(lab, box_json(lab) + ",\"limits\":{\"fileSizeBytes\":0}", "open.json");
    run_cordon({"run", "--ceiling", open.string(), "--rw", lab.box.string(), "--", "sh", "-c",
            "head -c 4194304 /dev/zero > " + (lab.box / "big").string()});
    CHECK(fs::file_size(lab.box / "big") == 4194304);  // control: without the limit
}

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const char* exe = std::getenv("CORDON_EXE");
    const char* bin = std::getenv("MXC_BIN_DIR");
    if (!exe || !bin || !fs::exists(fs::path(bin) / "x64" / "lxc-exec") || !fs::exists("/usr/bin/bwrap")) {
        if (std::getenv("CORDON_REQUIRE_EXECUTOR")) {
            std::cerr << "hostile: the executor (MXC_BIN_DIR), bwrap or CORDON_EXE is missing\n";
            return 1;
        }
        std::cout << "SKIP: needs the real executor (MXC_BIN_DIR), bwrap and CORDON_EXE\n";
        return 77;
    }
    if (::geteuid() == 0 && !cordon::test::test_user()) {
        std::cerr << "hostile: cannot create the test user\n";
        return 1;
    }
    return context.run();
}
