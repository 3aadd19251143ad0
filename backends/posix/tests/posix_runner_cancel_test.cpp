// SPDX-License-Identifier: MIT
// POSIX runner cancellation (RunOptions::cancel_fd) against the fake executor: the whole group dies, by pid.
#include "posix_runner.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

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
#include "support/process_gone.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace cordon::posix;

namespace {

using Clock = std::chrono::steady_clock;
constexpr long long slack_ms = 2000;  // scheduling on a loaded machine or under sanitizers

struct TempDir {
    std::string path;
    TempDir() {
        std::string t = fs::temp_directory_path().string() + "/cordon-cancel-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return path + "/" + name; }
};

// The cancel side of a run: a pipe whose read end the runner polls.
struct CancelPipe {
    int r = -1, w = -1;
    CancelPipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    ~CancelPipe() {
        ::close(r);
        ::close(w);
    }
    void fire() const { REQUIRE(::write(w, "x", 1) == 1); }
};

SpawnSpec fake_spec(const std::string& actions, const TempDir& dir) {
    SpawnSpec s;
    s.executor_path = fs::absolute(cordon::test::required_env("CORDON_FAKE_EXECUTOR")).string();
    s.argv = {"fake_executor", "--config-base64", cordon::detail::base64_encode("{}")};
    s.env = {"FAKE_EXECUTOR_MODE=" + actions, "FAKE_EXECUTOR_RECORD=" + dir.file("record")};
    return s;
}

std::vector<int> pids_of(const std::string& record, const std::string& role) {
    std::vector<int> pids;
    std::ifstream in(record);
    for (std::string line; std::getline(in, line);) {
        try {
            auto o = boost::json::parse(line).as_object();
            if (role == "executor" && o.if_contains("pid") && !o.if_contains("event"))
                pids.push_back(static_cast<int>(o.at("pid").to_number<std::int64_t>()));
            else if (o.if_contains("event") && o.at("role").as_string() == role.c_str())
                pids.push_back(static_cast<int>(o.at("pid").to_number<std::int64_t>()));
        } catch (const std::exception&) {
        }
    }
    return pids;
}

// Fires `cancel` once the fake has spawned `n` children, so a test proves they die rather than never start.
std::thread cancel_after_children(const TempDir& dir, std::size_t n, const CancelPipe& cancel) {
    return std::thread([&dir, n, &cancel] {
        auto until = Clock::now() + std::chrono::seconds(10);
        while (pids_of(dir.file("record"), "child").size() < n && Clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        cancel.fire();
    });
}

long long elapsed_ms(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

}  // namespace

TEST_SUITE("posix-runner-cancel") {
    TEST_CASE("cancelling kills the executor and every child of its group; not a timeout") {
        TempDir dir;
        CancelPipe cancel;
        auto spec = fake_spec("children:3,out:started,sleep:60000", dir);
        spec.timeout_ms = 60000;
        spec.options.grace_ms = 1000;
        spec.options.cancel_fd = cancel.r;
        auto canceller = cancel_after_children(dir, 3, cancel);
        auto start = Clock::now();
        auto r = run_process(spec);
        auto took = elapsed_ms(start);
        canceller.join();
        REQUIRE(r);
        CHECK(r->run.cancelled);
        CHECK_FALSE(r->run.timed_out);
        CHECK(r->run.signal == SIGTERM);
        CHECK(r->run.out == "started");
        CHECK(took < 1000 + slack_ms * 5);
        auto children = pids_of(dir.file("record"), "child");
        REQUIRE(children.size() == 3);
        for (int pid : children) CHECK(cordon::test::becomes_gone(pid));
        for (int pid : pids_of(dir.file("record"), "executor")) CHECK(cordon::test::becomes_gone(pid));
    }

    TEST_CASE("an executor that ignores SIGTERM gets SIGKILL after the grace period") {
        TempDir dir;
        CancelPipe cancel;
        auto spec = fake_spec("ignore-term,children:2,sleep:60000", dir);
        spec.options.grace_ms = 300;
        spec.options.cancel_fd = cancel.r;
        auto canceller = cancel_after_children(dir, 2, cancel);
        auto r = run_process(spec);
        canceller.join();
        REQUIRE(r);
        CHECK(r->run.cancelled);
        CHECK(r->run.signal == SIGKILL);
        CHECK(r->run.duration_ms >= 300);  // SIGKILL never before the grace period is over
        for (int pid : pids_of(dir.file("record"), "child")) CHECK(cordon::test::becomes_gone(pid));
    }

    TEST_CASE("a run cancelled before it starts ends at once, not at its timeout") {
        TempDir dir;
        CancelPipe cancel;
        cancel.fire();
        auto spec = fake_spec("sleep:60000", dir);
        spec.timeout_ms = 60000;
        spec.options.cancel_fd = cancel.r;
        auto start = Clock::now();
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.cancelled);
        CHECK(elapsed_ms(start) < slack_ms);
    }

    TEST_CASE("a run that ends before the cancellation is an ordinary result") {
        TempDir dir;
        CancelPipe cancel;
        auto spec = fake_spec("out:done,exit:4", dir);
        spec.options.cancel_fd = cancel.r;
        auto r = run_process(spec);
        cancel.fire();
        REQUIRE(r);
        CHECK_FALSE(r->run.cancelled);
        CHECK(r->run.exit_code == 4);
        CHECK(r->run.out == "done");
    }

    TEST_CASE("a cancel descriptor that is not open is a typed error, never a run") {
        TempDir dir;
        auto spec = fake_spec("out:ran", dir);
        spec.options.cancel_fd = 1000;  // far above anything this test opens
        REQUIRE(::fcntl(1000, F_GETFD) < 0);
        auto r = run_process(spec);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == cordon::ErrorCode::execution_failed);
        CHECK(r.error().where == "cancel_fd");
        CHECK_FALSE(fs::exists(dir.file("record")));
    }

    TEST_CASE("the backend wire carries cancel_fd and cancelled; older peers default to not cancellable") {
        cordon::detail::RunRequest req;
        req.config_json = "{}";
        req.executor_path = "/x";
        req.options.cancel_fd = 7;
        auto back = cordon::detail::decode_request(cordon::detail::encode_request(req));
        REQUIRE(back);
        CHECK(back->options.cancel_fd == 7);

        auto old = boost::json::parse(cordon::detail::encode_request(req)).as_object();
        old.erase("cancel_fd");
        auto old_back = cordon::detail::decode_request(boost::json::serialize(old));
        REQUIRE(old_back);
        CHECK(old_back->options.cancel_fd == -1);

        cordon::RunResult result;
        result.cancelled = true;
        auto decoded = cordon::detail::decode_result(cordon::detail::encode_result({}, result));
        REQUIRE(decoded);
        CHECK(decoded->cancelled);
        auto old_result = boost::json::parse(cordon::detail::encode_result({}, result)).as_object();
        old_result.erase("cancelled");
        auto old_decoded = cordon::detail::decode_result(boost::json::serialize(old_result));
        REQUIRE(old_decoded);
        CHECK_FALSE(old_decoded->cancelled);
    }
}
