// SPDX-License-Identifier: MIT
// POSIX runner identity, limits and config delivery against the fake executor: run_as, the root
// refusal, rlimits, the cgroup refusal, the sealed descriptor and the config swap race.
#include "cgroup.hpp"
#include "config_delivery.hpp"
#include "posix_runner.hpp"
#include "run_executor.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/detail/run_wire.hpp"
#include "support/run_command.hpp"
#include "support/test_user.hpp"

namespace fs = std::filesystem;
using cordon::ConfigDelivery;
using cordon::ErrorCode;
using cordon::ExecutorFailure;
using cordon::RunAs;
using namespace cordon::posix;

namespace {

std::string fake_path() { return fs::absolute(cordon::test::required_env("CORDON_FAKE_EXECUTOR")).string(); }

// A directory the run's user may write in (handed to the test user when we are root).
struct RunDir {
    std::string path;
    RunDir() {
        std::string t = fs::temp_directory_path().string() + "/cordon-identity-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = fs::canonical(t).string();
        cordon::test::hand_to_run_user(path);
    }
    ~RunDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return path + "/" + name; }
    bool empty() const { return fs::is_empty(path); }
};

std::optional<boost::json::object> first_record(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    return boost::json::parse(line).as_object();
}

std::string text(const boost::json::object& o, const char* key) { return std::string(o.at(key).as_string()); }

SpawnSpec fake_spec(const std::string& actions, const RunDir& dir) {
    SpawnSpec s;
    s.executor_path = fake_path();
    s.argv = {"fake_executor", "--config-base64", cordon::detail::base64_encode("{}")};
    s.env = {"FAKE_EXECUTOR_MODE=" + actions, "FAKE_EXECUTOR_RECORD=" + dir.file("record")};
    s.timeout_ms = 30000;
    return s;
}

// The fake runs process.commandLine with /bin/sh, as lxc-exec would.
SpawnSpec fake_command(const std::string& command_line, const RunDir& dir) {
    SpawnSpec s = fake_spec("run", dir);
    std::string config = R"({"process":{"commandLine":")" + command_line + R"("}})";
    s.argv = {"fake_executor", "--config-base64", cordon::detail::base64_encode(config)};
    return s;
}

cordon::detail::RunRequest request(const std::string& config) {
    cordon::detail::RunRequest req;
    req.config_json = config;
    req.executor_path = fake_path();
    req.sdk_version = "0.9.0";
    req.timeout_ms = 30000;
    req.options.run_as = cordon::test::run_as_for_tests();
    return req;
}

std::string ids(std::uint32_t id) {
    std::string s = std::to_string(id);
    return s + "\t" + s + "\t" + s + "\t" + s;  // real, effective, saved, file system
}

}  // namespace

TEST_SUITE("run-as") {
    TEST_CASE("as root, run_as: every id switched, no groups, no capabilities, no_new_privs; control: root") {
        if (::geteuid() != 0) {
            MESSAGE("SKIP: needs root (the unprivileged run covers the own-ids case)");
            return;
        }
        auto user = cordon::test::test_user();
        REQUIRE(user);
        RunDir dir;
        SUBCASE("switched") {
            auto spec = fake_spec("exit:0", dir);
            spec.options.run_as = user->run_as();
            auto r = run_process(spec);
            REQUIRE(r);
            REQUIRE(r->run.failure == ExecutorFailure::none);
            auto rec = first_record(dir.file("record"));
            REQUIRE(rec);
            CHECK(text(*rec, "uid") == ids(user->uid));
            CHECK(text(*rec, "gid") == ids(user->gid));
            CHECK(text(*rec, "groups").empty());
            CHECK(text(*rec, "cap_eff") == "0000000000000000");
            CHECK(text(*rec, "no_new_privs") == "1");
        }
        SUBCASE("control: without run_as the generic primitive starts root with every capability") {
            auto r = run_process(fake_spec("exit:0", dir));
            REQUIRE(r);
            auto rec = first_record(dir.file("record"));
            REQUIRE(rec);
            CHECK(text(*rec, "uid") == ids(0));
            CHECK(text(*rec, "cap_eff") != "0000000000000000");
        }
    }

    TEST_CASE("run_as uid 0 or gid 0 is refused before anything starts") {
        RunDir dir;
        for (RunAs as : {RunAs{0, 1000}, RunAs{1000, 0}}) {
            auto spec = fake_spec("exit:0", dir);
            spec.options.run_as = as;
            auto r = run_process(spec);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == ErrorCode::execution_failed);
            CHECK(r.error().where == "run_as");
        }
        CHECK_FALSE(fs::exists(dir.file("record")));
    }

    TEST_CASE("without root: the own ids are accepted, another user is refused") {
        if (::geteuid() == 0) {
            MESSAGE("SKIP: runs as the unprivileged test user (tests/as_test_user.sh)");
            return;
        }
        RunDir dir;
        auto spec = fake_spec("exit:0", dir);
        spec.options.run_as = RunAs{::geteuid(), ::getegid()};
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        auto rec = first_record(dir.file("record"));
        REQUIRE(rec);
        CHECK(text(*rec, "uid") == ids(::geteuid()));
        spec.options.run_as = RunAs{::geteuid() + 1, ::getegid()};
        auto other = run_process(spec);
        REQUIRE_FALSE(other);
        CHECK(other.error().where == "run_as");
    }

    TEST_CASE("run_executor never starts the executor as root: without run_as a root caller is refused") {
        if (::geteuid() != 0) {
            MESSAGE("SKIP: the refusal concerns root callers");
            return;
        }
        RunDir dir;
        auto req = request(R"({"process":{"commandLine":"@fake:exit:0"}})");
        req.options.run_as.reset();
        ExecutorLaunch launch;
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        auto r = run_executor(req, launch);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::execution_failed);
        CHECK(r.error().where == "run_as");
        CHECK(r.error().message.find("--run-as") != std::string::npos);  // it says how to choose one
        CHECK_FALSE(fs::exists(dir.file("record")));                     // nothing was started
    }
}

TEST_SUITE("limits") {
    TEST_CASE("limits become the executor's rlimits, inherited by its command; control: unlimited") {
        // The executor here is /bin/sh (an instrumented fake executor could not start under an
        // address-space limit in a sanitizer build); its child shell shows what the tree inherits.
        // dash: -n files, -f 512-byte blocks, -t CPU seconds, -v KiB, -p processes
        SpawnSpec spec;
        spec.executor_path = "/bin/sh";
        spec.argv = {"sh", "-c", "sh -c 'ulimit -Sn; ulimit -Hn; ulimit -Sf; ulimit -St; ulimit -Ht; ulimit -v; ulimit -p'"};
        spec.timeout_ms = 30000;
        spec.options.run_as = cordon::test::run_as_for_tests();
        SUBCASE("limited") {
            spec.options.limits.open_files = 64;
            spec.options.limits.file_size_bytes = 1 << 20;
            spec.options.limits.cpu_seconds = 7;
            spec.options.limits.address_space_bytes = 512ull << 20;
            spec.options.limits.processes = 100;
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.out == "64\n64\n2048\n7\n8\n524288\n100\n");  // CPU: SIGXCPU at 7 s, SIGKILL at 8 s
            // pids.max of a cgroup of the run's own, where the host has one; rlimits alone here
            CHECK(r->run.cgroup == (cgroup_unavailable_reason() == "a cgroup v2 is available"));
        }
        SUBCASE("control") {
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.out != "64\n64\n2048\n7\n8\n524288\n100\n");
            CHECK(r->run.out.find("unlimited") != std::string::npos);
        }
    }

    TEST_CASE("memory_bytes needs a cgroup: refused where none can be made, never silently dropped") {
        RunDir dir;
        auto spec = fake_command("cat /proc/self/cgroup", dir);
        spec.options.run_as = cordon::test::run_as_for_tests();
        spec.options.limits.memory_bytes = 256ull << 20;
        auto r = run_process(spec);
        const std::string reason = cgroup_unavailable_reason();
        if (reason == "a cgroup v2 is available") {
            MESSAGE("this host has a cgroup v2 with memory and pids: the run's own cgroup is used");
            REQUIRE(r);
            CHECK(r->run.cgroup);
            CHECK(r->run.out.find("cordon-run-") != std::string::npos);
        } else {
            MESSAGE("no cgroup here: " << reason);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == ErrorCode::backend_unsupported);
            CHECK(r.error().where == "limits/memory_bytes");
            CHECK(r.error().message.find(reason) != std::string::npos);
            CHECK_FALSE(fs::exists(dir.file("record")));
        }
    }
}

TEST_SUITE("config-descriptor") {
    TEST_CASE("the descriptor is sealed and read-only: neither it nor a reopened one can change the config") {
        auto fd = sealed_config_descriptor(R"({"a":1})");
        REQUIRE(fd);
        CHECK(fd->get() > 2);
        CHECK((::fcntl(fd->get(), F_GETFL) & O_ACCMODE) == O_RDONLY);
        CHECK(::fcntl(fd->get(), F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
        CHECK(::write(fd->get(), "x", 1) < 0);
        int rw = ::open(("/proc/self/fd/" + std::to_string(fd->get())).c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(rw >= 0);
        CHECK(::write(rw, "x", 1) < 0);
        CHECK(errno == EPERM);  // F_SEAL_WRITE
        CHECK(::ftruncate(rw, 0) != 0);
        ::close(rw);
        char buf[16] = {};
        CHECK(::pread(fd->get(), buf, sizeof buf, 0) == 7);
        CHECK(std::string(buf) == R"({"a":1})");
    }

    TEST_CASE("a streamed stderr flood: the failure is classified from its tail, the result keeps its head") {
        // With stderr to a sink and keep_streamed_output off, the executor's closing object comes
        // after 2 MiB of stderr: the classification must still see it, and the result (which crosses
        // the backend ABI as base64) must not carry the flood.
        const std::string msg = "fake failure after a flood";
        for (const bool keep : {false, true}) {
            CAPTURE(keep);
            auto req = request(R"({"process":{"commandLine":"@fake:flood:2:err,backend-error:)" + msg + R"("}})");
            req.options.output_limit = std::size_t{4} << 20;
            int p[2];
            REQUIRE(::pipe(p) == 0);
            std::string seen;
            std::thread reader([&seen, fd = p[0]] {
                char buf[65536];
                ssize_t n;
                while ((n = ::read(fd, buf, sizeof buf)) > 0) seen.append(buf, static_cast<std::size_t>(n));
            });
            req.options.stderr_fd = p[1];
            req.options.keep_streamed_output = keep;
            auto r = run_executor(req, ExecutorLaunch{});
            ::close(p[1]);
            reader.join();
            ::close(p[0]);
            REQUIRE(r);
            CHECK(r->run.failure == ExecutorFailure::backend_error);
            CHECK(r->run.failure_message == msg);
            const std::string flood(std::size_t{2} << 20, 'x');
            CHECK(seen == flood + msg);  // the sink: every byte but the executor's held-back object
            if (keep) {  // the control: the result keeps the whole stream, the object included
                CHECK(r->run.err.compare(0, flood.size(), flood) == 0);
                CHECK(r->run.err.find("{\"error\"", flood.size()) != std::string::npos);
            } else {
                CHECK(r->run.err == std::string(cordon::streamed_head_bytes, 'x'));
            }
        }
    }

    TEST_CASE("descriptor delivery (the default): the executor reads /dev/fd/N; nothing appears in TMPDIR") {
        RunDir dir, tmp;
        const std::string config = R"({"process":{"commandLine":"@fake:sleep:300,exit:0"}})";
        auto req = request(config);
        CHECK(req.options.delivery == ConfigDelivery::descriptor);
        ExecutorLaunch launch;
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        launch.config_parent_dir = tmp.path;  // where a file would go
        std::atomic<bool> done{false}, ever_nonempty{false};
        std::thread watch([&] {
            while (!done) {
                if (!tmp.empty()) ever_nonempty = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
        auto r = run_executor(req, launch);
        done = true;
        watch.join();
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        auto rec = first_record(dir.file("record"));
        REQUIRE(rec);
        CHECK(text(*rec, "config") == config);
        CHECK(text(*rec, "config_path").rfind("/dev/fd/", 0) == 0);
        CHECK(r->run.invocation.at(2) == text(*rec, "config_path"));
        CHECK_FALSE(ever_nonempty.load());
        CHECK(tmp.empty());
    }

    // A writer in the config's directory (another sandbox of the same user with TMPDIR granted)
    // replaces whatever config.json appears. The executor takes a while to read it (the fake's
    // delay), as a loaded machine would. Oracle: the config the executor actually ran.
    TEST_CASE("the swap race: a concurrent writer changes a file-delivered config, never a descriptor") {
        RunDir dir, shared;
        const std::string config = R"({"process":{"commandLine":"@fake:exit:0"}})";
        const std::string evil = R"({"process":{"commandLine":"@fake:exit:0"},"filesystem":{"readwritePaths":["/"]}})";
        std::ofstream(shared.file("evil.json")) << evil;
        std::atomic<bool> stop{false};
        std::atomic<int> swaps{0};
        std::thread attacker([&] {
            while (!stop) {
                for (const auto& e : fs::directory_iterator(shared.path, std::filesystem::directory_options::skip_permission_denied)) {
                    std::error_code ec;
                    fs::path target = e.path() / "config.json";
                    if (e.path().filename().string().rfind("cordon-", 0) == 0 && fs::exists(target, ec)) {
                        fs::copy_file(shared.file("evil.json"), shared.file("evil.tmp"), fs::copy_options::overwrite_existing, ec);
                        if (!ec) fs::rename(shared.file("evil.tmp"), target, ec);
                        if (!ec) ++swaps;
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
        auto run = [&](ConfigDelivery how) {
            auto req = request(config);
            req.options.delivery = how;
            ExecutorLaunch launch;
            launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record-" + std::to_string(int(how))),
                          "FAKE_EXECUTOR_DELAY_MS=400"};
            launch.config_parent_dir = shared.path;
            auto r = run_executor(req, launch);
            REQUIRE(r);
            auto rec = first_record(dir.file("record-" + std::to_string(int(how))));
            REQUIRE(rec);
            return text(*rec, "config");
        };
        const std::string by_file = run(ConfigDelivery::file);
        const std::string by_descriptor = run(ConfigDelivery::descriptor);
        stop = true;
        attacker.join();
        CHECK(by_file == evil);  // control: the attack works against a file on a shared path
        CHECK(swaps.load() >= 1);
        CHECK(by_descriptor == config);  // the descriptor names nothing that could be swapped
    }

    TEST_CASE("file delivery refuses a config directory inside one of the config's grants") {
        RunDir dir, tmp;
        fs::create_directories(tmp.file("sub"));
        fs::create_symlink(tmp.path, tmp.file("link"));  // a spelling through a symlink is resolved
        for (const std::string& grants :
             {R"("readwritePaths":[")" + tmp.path + R"("])", R"("readonlyPaths":["/usr",")" + tmp.file("link") + R"("])"}) {
            auto req = request(R"({"process":{"commandLine":"@fake:exit:0"},"filesystem":{)" + grants + "}}");
            req.options.delivery = ConfigDelivery::file;
            ExecutorLaunch launch;
            launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
            launch.config_parent_dir = tmp.file("sub");
            auto r = run_executor(req, launch);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == ErrorCode::invalid_policy);
            CHECK(r.error().where.rfind("/filesystem/", 0) == 0);
            CHECK_FALSE(fs::exists(dir.file("record")));
        }
        // Outside every grant it is delivered.
        auto req = request(R"({"process":{"commandLine":"@fake:exit:0"},"filesystem":{"readonlyPaths":["/usr"]}})");
        req.options.delivery = ConfigDelivery::file;
        ExecutorLaunch launch;
        launch.env = {"FAKE_EXECUTOR_RECORD=" + dir.file("record")};
        launch.config_parent_dir = tmp.file("sub");
        auto r = run_executor(req, launch);
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
    }
}

TEST_SUITE("run-wire") {
    TEST_CASE("the backend wire carries stdin, sinks, run_as, limits and cgroup; older peers mean the old behaviour") {
        cordon::detail::RunRequest req;
        req.config_json = "{}";
        req.executor_path = "/x/lxc-exec";
        req.options.delivery = ConfigDelivery::descriptor;
        req.options.stdin_mode = cordon::StdinMode::interactive;
        req.options.stdin_fd = 0;
        req.options.stdout_fd = 1;
        req.options.stderr_fd = 2;
        req.options.run_as = RunAs{999, 995};
        req.options.limits.processes = 64;
        req.options.limits.memory_bytes = 1ull << 40;  // beyond 32 bits
        req.options.limits.open_files = 32;
        auto back = cordon::detail::decode_request(cordon::detail::encode_request(req));
        REQUIRE(back);
        CHECK(back->options.delivery == ConfigDelivery::descriptor);
        CHECK(back->options.stdin_mode == cordon::StdinMode::interactive);
        CHECK(back->options.stdin_fd == 0);
        CHECK(back->options.stdout_fd == 1);
        CHECK(back->options.stderr_fd == 2);
        CHECK(back->options.run_as == req.options.run_as);
        CHECK(back->options.limits == req.options.limits);

        // A host older than these fields: /dev/null, no sinks, no switch, no limits.
        auto old = boost::json::parse(cordon::detail::encode_request(req)).as_object();
        for (const char* key : {"stdin", "stdin_fd", "stdout_fd", "stderr_fd", "run_as", "limits"}) old.erase(key);
        old["config_delivery"] = "file";
        auto old_back = cordon::detail::decode_request(boost::json::serialize(old));
        REQUIRE(old_back);
        CHECK(old_back->options.stdin_mode == cordon::StdinMode::null);
        CHECK(old_back->options.stdin_fd == -1);
        CHECK(old_back->options.stdout_fd == -1);
        CHECK_FALSE(old_back->options.run_as);
        CHECK(old_back->options.limits.empty());
        CHECK(old_back->options.delivery == ConfigDelivery::file);

        // A limit this side does not know, or a run_as with more than uid and gid, is malformed: never dropped.
        auto unknown = boost::json::parse(cordon::detail::encode_request(req)).as_object();
        unknown["limits"].as_object()["gpu_seconds"] = 1;
        CHECK_FALSE(cordon::detail::decode_request(boost::json::serialize(unknown)));
        auto extra = boost::json::parse(cordon::detail::encode_request(req)).as_object();
        extra["run_as"].as_object()["groups"] = boost::json::array{0};
        CHECK_FALSE(cordon::detail::decode_request(boost::json::serialize(extra)));

        cordon::RunResult result;
        result.cgroup = true;
        auto r = cordon::detail::decode_result(cordon::detail::encode_result({}, result));
        REQUIRE(r);
        CHECK(r->cgroup);
    }
}
