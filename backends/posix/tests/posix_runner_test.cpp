// SPDX-License-Identifier: MIT
// POSIX runner against real processes: the fake executor (tests/fake_executor), /bin/sh, real files.
#include "config_delivery.hpp"
#include "posix_runner.hpp"
#include "run_executor.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "support/process_gone.hpp"
#include "support/run_command.hpp"
#include "support/test_user.hpp"

namespace fs = std::filesystem;
using cordon::ConfigDelivery;
using cordon::ExecutorFailure;
using namespace cordon::posix;

namespace {

using Clock = std::chrono::steady_clock;

std::string fake_path() { return fs::absolute(cordon::test::required_env("CORDON_FAKE_EXECUTOR")).string(); }

struct TempDir {
    std::string path;
    TempDir() {
        std::string t = fs::temp_directory_path().string() + "/cordon-runner-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return path + "/" + name; }
};

std::vector<boost::json::object> read_record(const std::string& path) {
    std::vector<boost::json::object> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        try {
            lines.push_back(boost::json::parse(line).as_object());
        } catch (const std::exception&) {
            // a line the fake is still writing; callers that need it wait and read again
        }
    }
    return lines;
}

std::vector<int> spawned(const std::vector<boost::json::object>& rec, const std::string& role) {
    std::vector<int> pids;
    for (const auto& o : rec)
        if (o.if_contains("event") && o.at("role").as_string() == role.c_str())
            pids.push_back(static_cast<int>(o.at("pid").to_number<std::int64_t>()));
    return pids;
}

std::vector<std::string> strings(const boost::json::value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
    return out;
}

using cordon::test::becomes_gone;
using cordon::test::gone;

SpawnSpec fake_spec(const std::string& actions, const TempDir& dir) {
    SpawnSpec s;
    s.executor_path = fake_path();
    s.argv = {"fake_executor", "--config-base64", cordon::detail::base64_encode("{}")};
    s.env = {"FAKE_EXECUTOR_MODE=" + actions, "FAKE_EXECUTOR_RECORD=" + dir.file("record")};
    return s;
}

long long elapsed_ms(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// Scheduling slack on a loaded machine or under sanitizers; the bounds under test are far larger
// than what a broken implementation would take (60 s sleeps).
constexpr long long slack_ms = 2000;

void copy_file(const std::string& from, const std::string& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, fs::perms::owner_all);
}

}  // namespace

TEST_SUITE("posix-runner") {
    TEST_CASE("exit status, both streams and a clean end") {
        TempDir dir;
        auto r = run_process(fake_spec("out:hello\\n,err:oops,exit:7", dir));
        REQUIRE(r);
        CHECK(r->run.exit_code == 7);
        CHECK(r->run.signal == 0);
        CHECK(r->run.out == "hello\n");
        CHECK(r->run.err == "oops");
        CHECK(r->run.out_dropped == 0);
        CHECK(r->run.err_dropped == 0);
        CHECK_FALSE(r->run.timed_out);
        CHECK(r->run.failure == ExecutorFailure::none);
        CHECK_FALSE(r->output_held_open);
        CHECK(r->incident.empty());
    }

    TEST_CASE("argv and environment are exactly what was given; the child leads its own session") {
        TempDir dir;
        auto spec = fake_spec("exit:0", dir);
        spec.argv.push_back("two words; $(touch " + dir.file("injected") + ")");  // positional, unused
        spec.env.push_back("A=1");
        spec.env.push_back("B=with spaces; and $HOME");
        REQUIRE(::setenv("CORDON_RUNNER_TEST_SECRET", "must-not-leak", 1) == 0);
        auto r = run_process(spec);
        ::unsetenv("CORDON_RUNNER_TEST_SECRET");
        REQUIRE(r);
        auto rec = read_record(dir.file("record"));
        REQUIRE(rec.size() >= 1);
        CHECK(strings(rec[0].at("argv")) == spec.argv);
        CHECK(strings(rec[0].at("env")) == spec.env);
        CHECK_FALSE(fs::exists(dir.file("injected")));
        CHECK(rec[0].at("pgid") == rec[0].at("pid"));
        CHECK(rec[0].at("pgid").to_number<std::int64_t>() != ::getpgrp());
        // setsid, not only setpgid: no controlling terminal (tests/terminal_test.cpp shows why)
        CHECK(rec[0].at("sid") == rec[0].at("pid"));
        CHECK(rec[0].at("sid").to_number<std::int64_t>() != ::getsid(0));
    }

    TEST_CASE("an empty environment stays empty; cwd is applied") {
        TempDir dir;
        SpawnSpec spec;
        spec.executor_path = fake_path();
        // Without FAKE_EXECUTOR_MODE the fake runs process.commandLine, like lxc-exec.
        spec.argv = {"fake_executor", "--config-base64",
                     cordon::detail::base64_encode(R"({"process":{"commandLine":"pwd; echo \"[$FAKE_EXECUTOR_RECORD]\""}})")};
        spec.cwd = dir.path;
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        CHECK(r->run.out == fs::canonical(dir.path).string() + "\n[]\n");
    }

    TEST_CASE("only 0, 1 and 2 reach the child: /dev/null and two pipes, nothing inherited") {
        TempDir dir;
        int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
        int leaked_pipe[2];
        REQUIRE(::pipe(leaked_pipe) == 0);
        REQUIRE(leaked >= 0);
        auto r = run_process(fake_spec("exit:0", dir));
        ::close(leaked);
        ::close(leaked_pipe[0]);
        ::close(leaked_pipe[1]);
        REQUIRE(r);
        auto rec = read_record(dir.file("record"));
        REQUIRE(!rec.empty());
        const auto& fds = rec[0].at("fds").as_array();
        std::vector<std::int64_t> numbers;
        for (const auto& f : fds) numbers.push_back(f.at("fd").to_number<std::int64_t>());
        std::sort(numbers.begin(), numbers.end());
        CHECK(numbers == std::vector<std::int64_t>{0, 1, 2});
        for (const auto& f : fds) {
            auto fd = f.at("fd").to_number<std::int64_t>();
            std::string target(f.at("target").as_string());
            if (fd == 0) CHECK(target == "/dev/null");
            else CHECK(target.rfind("pipe:[", 0) == 0);
        }
    }

    TEST_CASE("ignored and blocked signals of the caller do not reach the executor") {
        TempDir dir;
        auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
        auto old_int = ::signal(SIGINT, SIG_IGN);
        sigset_t block, saved;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        ::pthread_sigmask(SIG_BLOCK, &block, &saved);
        auto r = run_process(fake_spec("exit:0", dir));
        ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
        ::signal(SIGPIPE, old_pipe);
        ::signal(SIGINT, old_int);
        REQUIRE(r);
        auto rec = read_record(dir.file("record"));
        REQUIRE(!rec.empty());
        CHECK(rec[0].at("sig_ignored").as_string() == "0000000000000000");
        CHECK(rec[0].at("sig_blocked").as_string() == "0000000000000000");
    }

    TEST_CASE("stdin is /dev/null: a reader ends at once") {
        TempDir dir;
        SpawnSpec spec;
        spec.executor_path = "/bin/sh";
        spec.argv = {"sh", "-c", "cat; echo done"};
        spec.timeout_ms = 30000;
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.out == "done\n");
        CHECK_FALSE(r->run.timed_out);
    }

    TEST_CASE("launch from a descriptor: the path is never consulted") {
        TempDir dir;
        const std::string exe = dir.file("executor");
        copy_file(fake_path(), exe);
        int fd = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);

        SUBCASE("the file is replaced by something else after verification") {
            std::ofstream(dir.file("impostor")) << "#!/bin/sh\necho IMPOSTOR\n";
            fs::permissions(dir.file("impostor"), fs::perms::owner_all);
            fs::rename(dir.file("impostor"), exe);
        }
        SUBCASE("the file is deleted after verification") {
            fs::remove(exe);
        }
        SUBCASE("an O_PATH descriptor works too") {
            ::close(fd);
            fd = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
            REQUIRE(fd >= 0);
            fs::remove(exe);
        }
        auto spec = fake_spec("out:real,exit:0", dir);
        spec.executor_fd = fd;
        spec.executor_path = exe;
        auto r = run_process(spec);
        ::close(fd);
        REQUIRE(r);
        CHECK(r->run.failure == ExecutorFailure::none);
        CHECK(r->run.out == "real");
        auto rec = read_record(dir.file("record"));
        REQUIRE(!rec.empty());
        // The descriptor itself was close-on-exec in the child: it is not among the child's fds.
        CHECK(rec[0].at("fds").as_array().size() == 3);
    }

    TEST_CASE("spawn failures are reported as spawn_failed with the reason, not as the command's status") {
        TempDir dir;
        SpawnSpec spec;
        spec.argv = {"x"};
        SUBCASE("missing executor") {
            spec.executor_path = dir.file("missing");
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::spawn_failed);
            CHECK(r->run.failure_message.find("No such file or directory") != std::string::npos);
            CHECK(r->run.failure_message.find(dir.file("missing")) != std::string::npos);
            CHECK(r->run.exit_code == -1);
        }
        SUBCASE("not executable") {
            std::ofstream(dir.file("data")) << "not a program";
            spec.executor_path = dir.file("data");
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::spawn_failed);
            CHECK(r->run.failure_message.find("Permission denied") != std::string::npos);
        }
        SUBCASE("working directory missing") {
            spec.executor_path = "/bin/true";
            spec.cwd = dir.file("nowhere");
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::spawn_failed);
            CHECK(r->run.failure_message.find("chdir") != std::string::npos);
        }
        SUBCASE("a #! script from a close-on-exec descriptor cannot run, and says why") {
            std::ofstream(dir.file("script")) << "#!/bin/sh\necho hi\n";
            fs::permissions(dir.file("script"), fs::perms::owner_all);
            int fd = ::open(dir.file("script").c_str(), O_RDONLY | O_CLOEXEC);
            REQUIRE(fd >= 0);
            spec.executor_fd = fd;
            auto r = run_process(spec);
            ::close(fd);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::spawn_failed);
            CHECK(r->run.failure_message.find("script") != std::string::npos);
        }
    }

    TEST_CASE("malformed specs are typed errors, never a run") {
        SpawnSpec spec;
        spec.executor_path = "/bin/true";
        auto expect_error = [](const SpawnSpec& s, const std::string& where) {
            auto r = run_process(s);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == cordon::ErrorCode::execution_failed);
            CHECK(r.error().where == where);
        };
        expect_error(spec, "argv");
        spec.argv = {"true", std::string("a\0b", 3)};
        expect_error(spec, "argv[1]");
        spec.argv = {"true"};
        spec.env = {"NOEQUALS"};
        expect_error(spec, "env[0]");
        spec.env = {"=value"};
        expect_error(spec, "env[0]");
        spec.env = {};
        spec.executor_path.clear();
        expect_error(spec, "executor_path");
        int fd = ::open("/dev/null", O_RDONLY);
        ::close(fd);
        spec.executor_fd = fd;  // closed
        expect_error(spec, "executor_fd");
    }

    TEST_CASE("a caller that ignores SIGCHLD gets a clear error instead of a run without exit status") {
        TempDir dir;
        auto old = ::signal(SIGCHLD, SIG_IGN);
        auto r = run_process(fake_spec("exit:0", dir));
        ::signal(SIGCHLD, old);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("SIGCHLD") != std::string::npos);
        CHECK_FALSE(fs::exists(dir.file("record")));  // nothing was started
    }

    TEST_CASE("when the process running run_process dies, the executor is killed with it") {
        TempDir dir;
        pid_t helper = ::fork();
        REQUIRE(helper >= 0);
        if (helper == 0) {  // a stand-in for an embedding program that gets SIGKILLed mid-run
            auto r = run_process(fake_spec("sleep:60000", dir));
            ::_exit(r ? 0 : 1);
        }
        // Wait (bounded) for the executor to record itself, then kill the helper.
        int executor = 0;
        for (auto until = Clock::now() + std::chrono::seconds(10); executor == 0 && Clock::now() < until;) {
            auto rec = read_record(dir.file("record"));
            if (!rec.empty()) executor = static_cast<int>(rec[0].at("pid").to_number<std::int64_t>());
            else std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(helper, SIGKILL);
        int status = 0;
        ::waitpid(helper, &status, 0);
        REQUIRE(executor != 0);
        CHECK(becomes_gone(executor));
    }

    TEST_CASE("timeout kills the whole tree of sleeping children; no survivors") {
        TempDir dir;
        auto spec = fake_spec("children:3,out:started,sleep:60000", dir);
        spec.timeout_ms = 300;
        spec.options.grace_ms = 1000;
        auto start = Clock::now();
        auto r = run_process(spec);
        auto took = elapsed_ms(start);
        REQUIRE(r);
        CHECK(r->run.timed_out);
        CHECK(r->run.signal == SIGTERM);  // the fake does not resist SIGTERM
        CHECK(r->run.out == "started");
        CHECK(took >= 300);
        CHECK(took < 300 + 1000 + slack_ms);
        auto children = spawned(read_record(dir.file("record")), "child");
        REQUIRE(children.size() == 3);
        for (int pid : children) CHECK(becomes_gone(pid));
    }

    TEST_CASE("SIGTERM ignored: SIGKILL follows after the grace period, for the whole group") {
        TempDir dir;
        auto spec = fake_spec("ignore-term,children:2,sleep:60000", dir);
        spec.timeout_ms = 200;
        spec.options.grace_ms = 400;
        auto start = Clock::now();
        auto r = run_process(spec);
        auto took = elapsed_ms(start);
        REQUIRE(r);
        CHECK(r->run.timed_out);
        CHECK(r->run.signal == SIGKILL);
        CHECK(r->run.exit_code == -1);
        CHECK(took >= 200 + 400);  // SIGKILL never comes before the grace period is over
        CHECK(took < 200 + 400 + spec.drain_ms + slack_ms);
        for (int pid : spawned(read_record(dir.file("record")), "child")) CHECK(becomes_gone(pid));
    }

    TEST_CASE("a stopped executor still ends at the timeout: SIGCONT follows SIGTERM") {
        TempDir dir;
        auto spec = fake_spec("out:x,stop,sleep:60000", dir);
        spec.timeout_ms = 200;
        spec.options.grace_ms = 20000;
        auto start = Clock::now();
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.timed_out);
        CHECK(r->run.signal == SIGTERM);  // not SIGKILL after 20 s
        CHECK(elapsed_ms(start) < 200 + slack_ms);
    }

    TEST_CASE("with drain_ms 0, output already in the pipes is still collected") {
        TempDir dir;
        auto spec = fake_spec("flood:1:out,out:END,exit:0", dir);
        spec.drain_ms = 0;
        spec.options.output_limit = 4u << 20;
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.out.size() == (1u << 20) + 3);
        CHECK(r->run.out.substr(r->run.out.size() - 3) == "END");
        CHECK_FALSE(r->output_held_open);
    }

    TEST_CASE("a grandchild holding the pipes inside the group dies with it") {
        TempDir dir;
        SUBCASE("on timeout") {
            auto spec = fake_spec("holder,sleep:60000", dir);
            spec.timeout_ms = 300;
            spec.options.grace_ms = 500;
            auto start = Clock::now();
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(elapsed_ms(start) < 300 + 500 + spec.drain_ms + slack_ms);
            CHECK(r->run.timed_out);
            CHECK_FALSE(r->output_held_open);
        }
        SUBCASE("when the executor exits normally, leftovers of its group are killed") {
            auto spec = fake_spec("holder,out:done,exit:0", dir);
            auto start = Clock::now();
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(elapsed_ms(start) < spec.drain_ms + slack_ms);
            CHECK(r->run.exit_code == 0);
            CHECK(r->run.out == "done");
            CHECK_FALSE(r->run.timed_out);
            CHECK_FALSE(r->output_held_open);
        }
        auto holders = spawned(read_record(dir.file("record")), "holder");
        REQUIRE(holders.size() == 1);
        CHECK(becomes_gone(holders[0]));
    }

    TEST_CASE("a grandchild that escaped the group (setsid) and holds the pipes: bounded, and reported") {
        TempDir dir;
        SpawnSpec spec;
        long long bound = 0;
        SUBCASE("on timeout") {
            spec = fake_spec("escaped-holder,out:before,sleep:60000", dir);
            spec.timeout_ms = 300;
            spec.options.grace_ms = 300;
            spec.drain_ms = 200;
            bound = 300 + 300 + 200;
        }
        SUBCASE("after a normal exit") {
            spec = fake_spec("escaped-holder,out:before,exit:3", dir);
            spec.drain_ms = 200;
            bound = 200;
        }
        auto start = Clock::now();
        auto r = run_process(spec);
        auto took = elapsed_ms(start);
        REQUIRE(r);
        auto escaped = spawned(read_record(dir.file("record")), "escaped-holder");
        REQUIRE(escaped.size() == 1);
        CHECK(took < bound + slack_ms);
        CHECK(r->run.out == "before");
        CHECK(r->output_held_open);
        CHECK(std::find(r->holder_pids.begin(), r->holder_pids.end(), escaped[0]) != r->holder_pids.end());
        CHECK(r->incident.find("held open") != std::string::npos);
        CHECK(r->incident.find(std::to_string(escaped[0])) != std::string::npos);
        CHECK_FALSE(r->executor_unreaped);
        // It is outside the group, so the runner did not (and must not) kill it: clean up here.
        CHECK_FALSE(gone(escaped[0]));
        ::kill(escaped[0], SIGKILL);
        CHECK(becomes_gone(escaped[0]));
    }

    TEST_CASE("an output flood is capped per stream, counted, and never blocks the child") {
        TempDir dir;
        auto spec = fake_spec("out:HEAD,flood:8,out:tail,exit:0", dir);
        spec.options.output_limit = 64 * 1024;
        spec.timeout_ms = 60000;
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);  // it finished writing 8 MiB to each stream: never blocked
        CHECK_FALSE(r->run.timed_out);
        CHECK(r->run.out.size() == 64 * 1024);
        CHECK(r->run.err.size() == 64 * 1024);
        CHECK(r->run.out_dropped == 4 + 8u * 1024 * 1024 + 4 - 64 * 1024);
        CHECK(r->run.err_dropped == 8u * 1024 * 1024 - 64 * 1024);
        CHECK(r->run.out.rfind("HEADxxx", 0) == 0);  // the first bytes are the ones kept
        CHECK(r->run.out.find("tail") == std::string::npos);
        // Memory: the buffers never grew past the limit (a standard library may round up a little).
        CHECK(r->run.out.capacity() <= 64 * 1024 + 64);
        CHECK(r->run.err.capacity() <= 64 * 1024 + 64);
    }

    TEST_CASE("output_limit 0 keeps nothing and counts everything") {
        TempDir dir;
        auto spec = fake_spec("out:12345,err:678,exit:0", dir);
        spec.options.output_limit = 0;
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.out.empty());
        CHECK(r->run.out_dropped == 5);
        CHECK(r->run.err_dropped == 3);
    }

    TEST_CASE("concurrent runs from several threads keep their own output and end promptly") {
        TempDir dir;
        std::vector<std::thread> threads;
        std::vector<std::string> outs(4);
        // not vector<bool>: its elements share bytes, so threads writing their own flag would race
        std::vector<char> ok(4, 0);
        auto start = Clock::now();
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&, i] {
                SpawnSpec spec;
                spec.executor_path = "/bin/sh";
                spec.argv = {"sh", "-c", "sleep 0.2; echo run" + std::to_string(i)};
                auto r = run_process(spec);
                ok[static_cast<std::size_t>(i)] = r && r->run.exit_code == 0 && !r->output_held_open;
                if (r) outs[static_cast<std::size_t>(i)] = r->run.out;
            });
        for (auto& t : threads) t.join();
        for (int i = 0; i < 4; ++i) {
            CHECK(ok[static_cast<std::size_t>(i)]);
            CHECK(outs[static_cast<std::size_t>(i)] == "run" + std::to_string(i) + "\n");
        }
        CHECK(elapsed_ms(start) < 200 + slack_ms);
    }
}

TEST_SUITE("config-delivery") {
    TEST_CASE("private config file: 0600 in a 0700 directory of ours, exact contents, removed afterwards") {
        TempDir parent;
        std::string path, directory;
        {
            auto file = PrivateConfigFile::create(R"({"secret":"x"})", parent.path);
            REQUIRE(file);
            path = file->path();
            directory = file->directory();
            CHECK(fs::path(path).parent_path() == directory);
            CHECK(fs::path(directory).parent_path() == parent.path);
            struct stat fst, dst;
            REQUIRE(::lstat(path.c_str(), &fst) == 0);
            REQUIRE(::lstat(directory.c_str(), &dst) == 0);
            CHECK(S_ISREG(fst.st_mode));
            CHECK(S_ISDIR(dst.st_mode));
            CHECK((fst.st_mode & 07777) == 0600);
            CHECK((dst.st_mode & 07777) == 0700);
            CHECK(fst.st_uid == ::geteuid());
            std::ifstream in(path);
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            CHECK(text == R"({"secret":"x"})");

            auto moved = std::move(*file);  // moving hands over ownership; nothing is removed yet
            CHECK(fs::exists(path));
            CHECK(moved.path() == path);
        }
        CHECK_FALSE(fs::exists(path));
        CHECK_FALSE(fs::exists(directory));
    }

    TEST_CASE("a permissive umask does not loosen the modes") {
        TempDir parent;
        auto old = ::umask(0);
        auto file = PrivateConfigFile::create("{}", parent.path);
        ::umask(old);
        REQUIRE(file);
        struct stat fst, dst;
        REQUIRE(::stat(file->path().c_str(), &fst) == 0);
        REQUIRE(::stat(file->directory().c_str(), &dst) == 0);
        CHECK((fst.st_mode & 07777) == 0600);
        CHECK((dst.st_mode & 07777) == 0700);
    }

    TEST_CASE("an unusable parent directory is an io_error naming it") {
        auto file = PrivateConfigFile::create("{}", "/nonexistent/cordon-test");
        REQUIRE_FALSE(file);
        CHECK(file.error().code == cordon::ErrorCode::io_error);
        CHECK(file.error().where.find("/nonexistent/cordon-test") == 0);
    }

    TEST_CASE("base64 delivery needs no file") {
        auto d = DeliveredConfig::make("{\"a\":1}", ConfigDelivery::base64);
        REQUIRE(d);
        CHECK(d->file() == nullptr);
        CHECK(d->args() == std::vector<std::string>{"--config-base64", cordon::detail::base64_encode("{\"a\":1}")});
    }
}

TEST_SUITE("run-executor") {
    cordon::detail::RunRequest request(const std::string& config) {
        cordon::detail::RunRequest req;
        req.config_json = config;
        req.executor_path = fake_path();
        req.sdk_version = "0.9.0";
        req.timeout_ms = 30000;
        req.options.run_as = cordon::test::run_as_for_tests();  // as root: the test user, never root
        return req;
    }

    // A directory the run's user (the test user, when the test runs as root) may write in.
    struct RunDir : TempDir {
        RunDir() { cordon::test::hand_to_run_user(path); }
    };

    TEST_CASE("file delivery: the executor reads a private file that is gone afterwards") {
        RunDir dir, tmp;
        const std::string config = R"({"version":"0.6.0-alpha","process":{"commandLine":"@fake:out:ok,exit:0"}})";
        auto req = request(config);
        req.options.delivery = ConfigDelivery::file;
        ExecutorLaunch launch;
        launch.flags = {"--experimental"};
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        launch.config_parent_dir = tmp.path;
        auto r = run_executor(req, launch);
        REQUIRE(r);
        CHECK(r->run.out == "ok");
        CHECK(r->run.failure == ExecutorFailure::none);
        auto rec = read_record(dir.file("record"));
        REQUIRE(!rec.empty());
        std::string path(rec[0].at("config_path").as_string());
        CHECK(strings(rec[0].at("argv")) ==
              std::vector<std::string>{fs::path(fake_path()).filename().string(), "--experimental", "--config", path});
        CHECK(rec[0].at("config").as_string() == config.c_str());
        CHECK(rec[0].at("config_file_mode").to_number<int>() == 0600);
        CHECK(rec[0].at("config_dir_mode").to_number<int>() == 0700);
        // ours, or (as root) handed to the run's user, who must read it
        CHECK(rec[0].at("config_file_uid").to_number<std::int64_t>() ==
              (req.options.run_as ? req.options.run_as->uid : ::geteuid()));
        CHECK(path.rfind(tmp.path + "/cordon-", 0) == 0);
        CHECK_FALSE(fs::exists(path));
        CHECK(fs::is_empty(tmp.path));  // the private directory is gone too
    }

    TEST_CASE("the private file is removed after a timeout and after a spawn failure too") {
        RunDir dir, tmp;
        auto req = request(R"({"process":{"commandLine":"@fake:sleep:60000"}})");
        req.options.delivery = ConfigDelivery::file;
        ExecutorLaunch launch;
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        launch.config_parent_dir = tmp.path;
        SUBCASE("timeout") {
            req.timeout_ms = 300;
            req.options.grace_ms = 200;
            auto r = run_executor(req, launch);
            REQUIRE(r);
            CHECK(r->run.timed_out);
            auto rec = read_record(dir.file("record"));
            REQUIRE(!rec.empty());
            CHECK_FALSE(fs::exists(std::string(rec[0].at("config_path").as_string())));
        }
        SUBCASE("spawn failure") {
            req.executor_path = dir.file("missing-executor");
            auto r = run_executor(req, launch);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::spawn_failed);
        }
        CHECK(fs::is_empty(tmp.path));
    }

    TEST_CASE("base64 delivery, the executor fd, and the recorded invocation") {
        RunDir dir;
        const std::string config = R"({"process":{"commandLine":"echo ran-from-fd"}})";
        auto req = request(config);
        req.options.delivery = ConfigDelivery::base64;
        int fd = ::open(fake_path().c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        req.executor_fd = fd;
        ExecutorLaunch launch;
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        auto r = run_executor(req, launch);
        ::close(fd);
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        CHECK(r->run.out == "ran-from-fd\n");
        auto rec = read_record(dir.file("record"));
        REQUIRE(!rec.empty());
        auto argv = strings(rec[0].at("argv"));
        CHECK(argv == std::vector<std::string>{fs::path(fake_path()).filename().string(), "--config-base64",
                                               cordon::detail::base64_encode(config)});
        CHECK(r->run.invocation == argv);
        CHECK(rec[0].at("config").as_string() == config.c_str());
        CHECK(rec[0].at("config_source").as_string() == "base64");
    }

    TEST_CASE("the command runs like under lxc-exec; executor failures are classified") {
        TempDir dir;
        ExecutorLaunch launch;
        SUBCASE("the contained command's status and output") {
            auto r = run_executor(
                request(R"({"process":{"commandLine":"echo hi; echo \"$X\" >&2; exit 3","env":["X=from-config"]}})"),
                launch);
            REQUIRE(r);
            CHECK(r->run.exit_code == 3);
            CHECK(r->run.out == "hi\n");
            CHECK(r->run.err == "from-config\n");
            CHECK(r->run.failure == ExecutorFailure::none);
        }
        SUBCASE("config rejected") {
            auto r = run_executor(request(R"({"process":{"commandLine":"@fake:request-error"}})"), launch);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::config_rejected);
            CHECK(r->run.failure_message == "Configuration parse error: fake rejection");
        }
        SUBCASE("backend error with the 0.9.0 trailing object") {
            auto r = run_executor(request(R"({"process":{"commandLine":"@fake:backend-error:it broke"}})"), launch);
            REQUIRE(r);
            CHECK(r->run.exit_code == 255);
            CHECK(r->run.failure == ExecutorFailure::backend_error);
            CHECK(r->run.failure_message == "it broke");
        }
        SUBCASE("the executor's own timeout") {
            auto r = run_executor(request(R"({"process":{"commandLine":"sleep 30","timeout":500}})"), launch);
            REQUIRE(r);
            CHECK(r->run.timed_out);  // read from the executor's report by the backend (cordon's timer is later)
            CHECK(r->run.started == cordon::CommandStarted::yes);
            CHECK(r->run.failure == ExecutorFailure::backend_error);
            CHECK(r->run.failure_message == "script timed out after 500ms");
        }
        SUBCASE("backend unavailable and launch failure") {
            auto u = run_executor(request(R"({"process":{"commandLine":"@fake:unavailable"}})"), launch);
            REQUIRE(u);
            CHECK(u->run.failure == ExecutorFailure::backend_unavailable);
            auto b = run_executor(request(R"({"process":{"commandLine":"@fake:bwrap-fail"}})"), launch);
            REQUIRE(b);
            CHECK(b->run.failure == ExecutorFailure::launch_failed);
        }
        SUBCASE("an invalid config file is rejected by the executor") {
            auto r = run_executor(request("{not json"), launch);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::config_rejected);
            CHECK(r->run.failure_message.rfind("Configuration parse error:", 0) == 0);
        }
    }
}
