// SPDX-License-Identifier: MIT
// POSIX runner input and output against real processes: the stdin relay, streaming sinks, the cap, a run's own terminal.
#include "posix_runner.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace cordon::posix;
using cordon::StdinMode;

namespace {

using Clock = std::chrono::steady_clock;
constexpr long long slack_ms = 2000;  // scheduling on a loaded machine or under sanitizers

long long ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

SpawnSpec shell(const std::string& script) {
    SpawnSpec s;
    s.executor_path = "/bin/sh";
    s.argv = {"sh", "-c", script};
    s.env = {"PATH=/usr/bin:/bin"};
    s.timeout_ms = 60000;
    return s;
}

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() { if (r >= 0) ::close(r), r = -1; }
    void close_write() { if (w >= 0) ::close(w), w = -1; }
};

// Reads a descriptor to EOF in a thread, noting when each chunk arrived.
class Collector {
public:
    explicit Collector(int fd) : thread_([this, fd] {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            std::lock_guard<std::mutex> lock(m_);
            data_.append(buf, static_cast<std::size_t>(n));
            arrivals_.emplace_back(Clock::now(), data_.size());
        }
    }) {}
    ~Collector() { join(); }
    void join() { if (thread_.joinable()) thread_.join(); }
    std::string data() { std::lock_guard<std::mutex> lock(m_); return data_; }
    /// When the collected text first contained `what`, or nullopt.
    std::optional<Clock::time_point> when(const std::string& what) {
        std::lock_guard<std::mutex> lock(m_);
        auto at = data_.find(what);
        if (at == std::string::npos) return std::nullopt;
        for (const auto& [t, size] : arrivals_)
            if (size >= at + what.size()) return t;
        return std::nullopt;
    }

private:
    std::mutex m_;
    std::string data_;
    std::vector<std::pair<Clock::time_point, std::size_t>> arrivals_;
    std::thread thread_;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct TempDir {
    std::string path;
    TempDir() {
        std::string t = fs::temp_directory_path().string() + "/cordon-io-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_SUITE("posix-runner-stdin") {
    TEST_CASE("stdin pass: `echo x | ... cat` prints x, and a large input arrives whole, then EOF") {
        std::string input = "x\n";
        SUBCASE("one line") {}
        SUBCASE("more than a pipe buffer") { input.assign(300000, 'y'); }
        Pipe in;
        std::thread feeder([&] {
            for (std::size_t done = 0; done < input.size();) {
                ssize_t n = ::write(in.w, input.data() + done, input.size() - done);
                if (n <= 0) break;
                done += static_cast<std::size_t>(n);
            }
            in.close_write();
        });
        auto spec = shell("cat");
        spec.options.stdin_mode = StdinMode::pass;
        spec.options.stdin_fd = in.r;
        auto r = run_process(spec);
        feeder.join();
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        CHECK(r->run.out == input);
        CHECK_FALSE(r->run.timed_out);
    }

    TEST_CASE("stdin pass: the command gets a pipe, never the caller's descriptor") {
        TempDir dir;
        const std::string file = dir.path + "/host-file";
        std::ofstream(file) << "original\n";
        // The caller's stdin opened read-write (`cmd <> file`): whoever holds it could write the file.
        int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(fd >= 0);
        const std::string probe = "readlink /proc/self/fd/0 >&2; cat; echo evil 2>/dev/null >&0";
        SUBCASE("through the runner") {
            auto spec = shell(probe);
            spec.options.stdin_mode = StdinMode::pass;
            spec.options.stdin_fd = fd;
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.out == "original\n");
            CHECK(r->run.err.rfind("pipe:[", 0) == 0);
            CHECK(read_file(file) == "original\n");  // host-side oracle: the file is unchanged
        }
        SUBCASE("control: a plain fork that hands the descriptor over") {
            pid_t pid = ::fork();
            if (pid == 0) {
                ::dup2(fd, 0);
                int null = ::open("/dev/null", O_WRONLY);
                ::dup2(null, 1);
                ::dup2(null, 2);
                ::execl("/bin/sh", "sh", "-c", probe.c_str(), static_cast<char*>(nullptr));
                ::_exit(127);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            CHECK(read_file(file).find("evil") != std::string::npos);  // the probe would have worked
        }
        ::close(fd);
    }

    TEST_CASE("stdin pass: an endless input ends with the command; nothing raises SIGPIPE here") {
        int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
        REQUIRE(zero >= 0);
        // `head` closes its stdin after 5 bytes; `true` never reads it. Either way the relay stops.
        for (const char* script : {"head -c 5 >/dev/null; echo done", "true; echo done"}) {
            auto spec = shell(script);
            spec.options.stdin_mode = StdinMode::pass;
            spec.options.stdin_fd = zero;
            auto start = Clock::now();
            auto r = run_process(spec);
            REQUIRE(r);
            CHECK(r->run.out == "done\n");
            CHECK(ms_since(start) < 10000);
            CHECK_FALSE(r->run.timed_out);
        }
        ::close(zero);
    }

    TEST_CASE("stdin pass needs an open descriptor") {
        auto spec = shell("cat");
        spec.options.stdin_mode = StdinMode::pass;
        spec.options.stdin_fd = 987;
        auto r = run_process(spec);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == cordon::ErrorCode::execution_failed);
        CHECK(r.error().where == "stdin_fd");
    }
}

TEST_SUITE("posix-runner-streaming") {
    TEST_CASE("a line printed at 0 s reaches the sink while the command still runs") {
        Pipe sink;
        Collector seen(sink.r);
        auto spec = shell("echo early; sleep 3; echo late");
        spec.options.stdout_fd = sink.w;
        auto start = Clock::now();
        auto r = run_process(spec);
        sink.close_write();
        seen.join();
        REQUIRE(r);
        CHECK(r->run.out == "early\nlate\n");  // the bounded copy is kept as before
        CHECK(seen.data() == "early\nlate\n");
        auto early = seen.when("early\n"), late = seen.when("late\n");
        REQUIRE(early);
        REQUIRE(late);
        // Behaviour, not a benchmark: the first line comes long before the 3 s sleep is over.
        CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*early - start).count() < 1500);
        CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*late - *early).count() >= 2500);
    }

    TEST_CASE("stdout and stderr stay apart and in order, and the cap holds for the sinks too") {
        Pipe out, err;
        Collector out_seen(out.r), err_seen(err.r);
        auto spec = shell("i=0; while [ $i -lt 400 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done");
        spec.options.output_limit = 1000;
        spec.options.stdout_fd = out.w;
        spec.options.stderr_fd = err.w;
        auto r = run_process(spec);
        out.close_write();
        err.close_write();
        out_seen.join();
        err_seen.join();
        REQUIRE(r);
        std::string all_out, all_err;
        for (int i = 0; i < 400; ++i) {
            all_out += "out-" + std::to_string(i) + "\n";
            all_err += "err-" + std::to_string(i) + "\n";
        }
        CHECK(r->run.out == all_out.substr(0, 1000));
        CHECK(r->run.err == all_err.substr(0, 1000));
        CHECK(out_seen.data() == r->run.out);  // exactly the kept bytes, in order
        CHECK(err_seen.data() == r->run.err);
        CHECK(r->run.out_dropped == all_out.size() - 1000);
        CHECK(r->run.err_dropped == all_err.size() - 1000);
    }

    TEST_CASE("the executor's closing {\"error\":...} object is kept in the result, not streamed to the stderr sink") {
        struct Case { std::string script, streamed; };
        const std::string trailer = R"({"error":{"code":"backend_error","message":"script timed out after 500ms"}})";
        const Case cases[] = {
            // what lxc-exec 0.9.0 prints after its timeout: the object right after the output, no newline
            {"echo err >&2; printf '%s' '" + trailer + "' >&2", "err\n"},
            {"printf 'partial line' >&2; printf '%s\\n' '" + trailer + "' >&2", "partial line"},
            // controls: an object the workload prints that is not the end of the stream, or not one
            {"printf '%s\\nmore\\n' '" + trailer + "' >&2", trailer + "\nmore\n"},
            {"printf '%s' '{\"error\":{\"code\":' >&2; sleep 0.2; printf 'x\\n}}\\n' >&2", "{\"error\":{\"code\":x\n}}\n"},
            {"printf '%s tail' '" + trailer + "' >&2", trailer + " tail"},
            {"printf '{\"error\"' >&2", "{\"error\""},
        };
        for (const auto& c : cases) {
            CAPTURE(c.script);
            Pipe err;
            Collector seen(err.r);
            auto spec = shell(c.script);
            spec.options.stderr_fd = err.w;
            auto r = run_process(spec);
            err.close_write();
            seen.join();
            REQUIRE(r);
            CHECK(seen.data() == c.streamed);
            CHECK(r->run.err.find(c.streamed) == 0);  // the result keeps every byte
        }
    }

    TEST_CASE("keep_streamed_output = false: the sinks get all that the cap allows, the result only the head") {
        Pipe out, err;
        Collector out_seen(out.r), err_seen(err.r);
        auto spec = shell("head -c 300000 /dev/zero | tr '\\0' o; echo err >&2");
        spec.options.output_limit = 200000;
        spec.options.stdout_fd = out.w;
        spec.options.stderr_fd = err.w;
        spec.options.keep_streamed_output = false;
        auto r = run_process(spec);
        out.close_write();
        err.close_write();
        out_seen.join();
        err_seen.join();
        REQUIRE(r);
        CHECK(out_seen.data() == std::string(200000, 'o'));  // the cap, as with a kept result
        CHECK(r->run.out == std::string(cordon::streamed_head_bytes, 'o'));
        CHECK(r->run.out_dropped == 100000);  // beyond the cap; the streamed rest is not "dropped"
        CHECK(err_seen.data() == "err\n");
        CHECK(r->run.err == "err\n");  // the executor's own messages are in the head
        // control: kept, the result holds everything the sink got
        Pipe out2;
        Collector seen2(out2.r);
        spec.options.stdout_fd = out2.w;
        spec.options.stderr_fd = -1;
        spec.options.keep_streamed_output = true;
        auto kept = run_process(spec);
        out2.close_write();
        seen2.join();
        REQUIRE(kept);
        CHECK(kept->run.out.size() == 200000);
        CHECK(seen2.data() == kept->run.out);
    }

    TEST_CASE("a sink whose reader is gone: the command sees the broken pipe, this process gets no SIGPIPE") {
        Pipe sink;
        sink.close_read();
        auto spec = shell("exec yes");
        spec.options.stdout_fd = sink.w;
        spec.timeout_ms = 30000;
        auto start = Clock::now();
        auto r = run_process(spec);  // SIGPIPE has its default disposition here: it would end the test
        REQUIRE(r);
        CHECK_FALSE(r->run.timed_out);
        CHECK(r->run.signal == SIGPIPE);
        CHECK(ms_since(start) < 10000);
    }

    TEST_CASE("a sink nobody reads slows the command but not the timeout") {
        Pipe sink;  // never read: full after one pipe buffer
        auto spec = shell("exec yes");
        spec.options.stdout_fd = sink.w;
        spec.timeout_ms = 1000;
        spec.options.grace_ms = 300;
        spec.drain_ms = 100;
        auto start = Clock::now();
        auto r = run_process(spec);
        REQUIRE(r);
        CHECK(r->run.timed_out);
        CHECK(ms_since(start) < 1000 + 2 * (300 + 100) + slack_ms);
    }

    TEST_CASE("a sink that is not open is a typed error") {
        auto spec = shell("true");
        spec.options.stderr_fd = 988;
        auto r = run_process(spec);
        REQUIRE_FALSE(r);
        CHECK(r.error().where == "stderr_fd");
    }
}

TEST_SUITE("posix-runner-interactive") {
    TEST_CASE("interactive: stdin, stdout and stderr are a terminal of the run's own; input and output pass") {
        Pipe in, sink;
        Collector seen(sink.r);
        REQUIRE(::write(in.w, "hello\n", 6) == 6);
        auto spec = shell("test -t 0 && test -t 1 && test -t 2 && echo all-terminals; read line; echo got:$line; "
                          "echo to-stderr >&2; tty");
        spec.options.stdin_mode = StdinMode::interactive;
        spec.options.stdin_fd = in.r;
        spec.options.stdout_fd = sink.w;
        auto r = run_process(spec);
        in.close_write();
        sink.close_write();
        seen.join();
        REQUIRE(r);
        CHECK(r->run.exit_code == 0);
        const std::string shown = seen.data();
        CHECK(shown.find("all-terminals\r\n") != std::string::npos);
        CHECK(shown.find("got:hello\r\n") != std::string::npos);
        CHECK(shown.find("to-stderr\r\n") != std::string::npos);  // one terminal for both streams
        CHECK(shown.find("/dev/pts/") != std::string::npos);
        CHECK(r->run.out == shown);  // the transcript's head is kept
        CHECK(r->run.err.empty());
    }

    TEST_CASE("interactive: no cap on what reaches the terminal; the transcript kept is bounded") {
        Pipe sink;
        Collector seen(sink.r);
        auto spec = shell("head -c 200000 /dev/zero | tr '\\0' 'z'");
        spec.options.stdin_mode = StdinMode::interactive;
        spec.options.stdout_fd = sink.w;
        spec.options.output_limit = 1000;
        auto r = run_process(spec);
        sink.close_write();
        seen.join();
        REQUIRE(r);
        CHECK(seen.data() == std::string(200000, 'z'));
        CHECK(r->run.out == std::string(1000, 'z'));
        CHECK(r->run.out_dropped == 199000);
    }

    TEST_CASE("interactive: the end of the caller's input is an EOF for a line-reading command") {
        Pipe in, sink;
        Collector seen(sink.r);
        REQUIRE(::write(in.w, "a\nb\n", 4) == 4);
        in.close_write();
        auto spec = shell("cat >/dev/null; echo eof-seen");
        spec.options.stdin_mode = StdinMode::interactive;
        spec.options.stdin_fd = in.r;
        spec.options.stdout_fd = sink.w;
        spec.timeout_ms = 20000;
        auto r = run_process(spec);
        sink.close_write();
        seen.join();
        REQUIRE(r);
        CHECK_FALSE(r->run.timed_out);
        CHECK(seen.data().find("eof-seen") != std::string::npos);
    }
}
