// SPDX-License-Identifier: MIT
// The seatbelt backend module, loaded as a plugin and driven like on macOS, against the fake
// executor (mxc-exec-mac cannot run on Linux): argv, private config, timeouts, caps, dry run.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json/parse.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/backend_host.hpp"
#include "cordon/mxc_json.hpp"
#include "support/process_gone.hpp"
#include "support/run_command.hpp"
#include "support/test_user.hpp"

using namespace cordon;
namespace fs = std::filesystem;
using cordon::test::required_env;

namespace {

struct Fixture {
    fs::path dir;
    int fd = -1;
    LoadedBackend backend;
    Fixture() : backend(load()) {
        dir = fs::temp_directory_path() / ("cordon-seatbelt-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        cordon::test::hand_to_run_user(dir);  // as root the executor runs as the test user
        fd = ::open(required_env("CORDON_FAKE_EXECUTOR").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
    }
    ~Fixture() {
        ::close(fd);
        fs::remove_all(dir);
    }
    static LoadedBackend load() {
        auto b = BackendRegistry().load(Backend::seatbelt, required_env("CORDON_SEATBELT_DIR"));
        REQUIRE_MESSAGE(b.has_value(), b.error().to_string());
        return *b;
    }
    fs::path record() const { return dir / "record.jsonl"; }

    detail::RunRequest request(const std::string& command, std::uint32_t timeout_ms = 0) const {
        Policy p;
        p.container_id = "fake-record:" + record().string();
        p.containment = Containment::seatbelt;
        p.process.command_line = command;
        p.filesystem.readonly = {"/Users/me/Documents"};
        p.seatbelt = SeatbeltSpec{};
        p.seatbelt->launch_method = LaunchMethod::exec;
        detail::RunRequest r;
        r.config_json = to_mxc_json(p, contract_0_7_0_alpha).value();
        r.executor_path = "/opt/mxc/bin/arm64/mxc-exec-mac";
        r.executor_fd = fd;
        r.sdk_version = "0.9.0";
        r.timeout_ms = timeout_ms;
        r.options.run_as = cordon::test::run_as_for_tests();  // never root
        return r;
    }
    boost::json::object first_record() const {
        std::ifstream in(record());
        std::string line;
        REQUIRE(std::getline(in, line));
        return boost::json::parse(line).as_object();
    }
};

}  // namespace

TEST_SUITE("seatbelt") {
    TEST_CASE("by default the config is a sealed descriptor: /dev/fd/N, nothing on a path") {
        Fixture f;
        auto req = f.request("true");
        CHECK(req.options.delivery == ConfigDelivery::descriptor);
        auto r = f.backend.run(req);
        REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
        auto rec = f.first_record();
        CHECK(rec.at("config") == req.config_json.c_str());
        CHECK(std::string(rec.at("config_path").as_string()).rfind("/dev/fd/", 0) == 0);
    }

    TEST_CASE("runs mxc-exec-mac with --experimental and a private config file, then removes it") {
        Fixture f;
        auto req = f.request("echo from-seatbelt; exit 4");
        req.options.delivery = ConfigDelivery::file;
        auto r = f.backend.run(req);
        REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
        CHECK(r->exit_code == 4);
        CHECK(r->out == "from-seatbelt\n");
        CHECK(r->failure == ExecutorFailure::none);
        auto rec = f.first_record();
        auto argv = rec.at("argv").as_array();
        REQUIRE(argv.size() == 4);
        CHECK(argv[0] == "mxc-exec-mac");
        CHECK(argv[1] == "--experimental");
        CHECK(argv[2] == "--config");
        CHECK(rec.at("config") == req.config_json.c_str());
        CHECK(rec.at("config_file_mode") == 0600);
        CHECK(rec.at("config_dir_mode") == 0700);
        CHECK(rec.at("env").as_array().size() == 1);  // PATH only: nothing of ours leaks
        CHECK(rec.at("env").as_array()[0].as_string().starts_with("PATH="));
        CHECK_FALSE(fs::exists(std::string(argv[3].as_string())));
        CHECK(r->invocation.size() == 4);
        CHECK(boost::json::parse(req.config_json).at("version") == "0.7.0-alpha");
    }

    TEST_CASE("base64 delivery puts the config in argv only when asked") {
        Fixture f;
        auto req = f.request("true");
        req.options.delivery = ConfigDelivery::base64;
        auto r = f.backend.run(req);
        REQUIRE(r.has_value());
        auto argv = f.first_record().at("argv").as_array();
        REQUIRE(argv.size() == 4);
        CHECK(argv[2] == "--config-base64");
        CHECK(argv[3] == detail::base64_encode(req.config_json).c_str());
    }

    TEST_CASE("a timeout kills the executor's whole tree, even with a pipe-holding grandchild") {
        Fixture f;
        auto start = std::chrono::steady_clock::now();
        auto r = f.backend.run(f.request("@fake:children:2,holder,sleep:60000", 500));
        auto elapsed = std::chrono::steady_clock::now() - start;
        REQUIRE(r.has_value());
        CHECK(r->timed_out);
        CHECK(elapsed < std::chrono::milliseconds(500 + 2000 + 1500));
        std::ifstream in(f.record());
        std::string line;
        std::getline(in, line);
        int spawned = 0;
        while (std::getline(in, line)) {
            int pid = static_cast<int>(boost::json::parse(line).at("pid").as_int64());
            ++spawned;
            CHECK_MESSAGE(cordon::test::becomes_gone(pid), "pid ", pid, " survived");
        }
        CHECK(spawned == 3);
    }

    TEST_CASE("output is capped and counted") {
        Fixture f;
        auto req = f.request("@fake:flood:4:out");
        req.options.output_limit = 1u << 20;
        auto r = f.backend.run(req);
        REQUIRE(r.has_value());
        CHECK(r->out.size() == (1u << 20));
        CHECK(r->out_dropped == (3u << 20));
    }

    TEST_CASE("the executor's own failures are told apart from the command's exit code") {
        Fixture f;
        auto r = f.backend.run(f.request("@fake:unavailable"));
        REQUIRE(r.has_value());
        CHECK(r->failure == ExecutorFailure::backend_unavailable);
        r = f.backend.run(f.request("@fake:request-error"));
        REQUIRE(r.has_value());
        CHECK(r->failure == ExecutorFailure::config_rejected);
    }

    TEST_CASE("a dry run reports the invocation and spawns nothing") {
        Fixture f;
        auto req = f.request("true");
        req.options.dry_run = true;
        auto r = f.backend.run(req);
        REQUIRE(r.has_value());
        CHECK_FALSE(fs::exists(f.record()));
        REQUIRE(r->invocation.size() == 4);
        CHECK(r->invocation[1] == "--experimental");
    }

    TEST_CASE("capabilities come from the core's table") {
        Fixture f;
        auto caps = f.backend.capabilities("0.9.0");
        REQUIRE(caps.has_value());
        CHECK(caps->backend == Backend::seatbelt);
        CHECK(caps->evidence == Evidence::assumed);
        CHECK_FALSE(caps->host_filtering);
    }
}
