// SPDX-License-Identifier: MIT
// The stdio transport over real pipes: framing, a line over the limit, a last line without newline, wake-up.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "stdio.hpp"
#include "support.hpp"

using namespace cordon::mcp;
using cordon::mcp::test::MemoryLog;
using cordon::mcp::test::MemoryOutput;
using cordon::mcp::test::ScriptedTools;

namespace {

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    ~Pipe() {
        if (r >= 0) ::close(r);
        close_write();
    }
    void close_write() {
        if (w >= 0) ::close(w);
        w = -1;
    }
    void write_all(const std::string& s) const {
        std::size_t done = 0;
        while (done < s.size()) {
            ssize_t n = ::write(w, s.data() + done, s.size() - done);
            REQUIRE(n > 0);
            done += static_cast<std::size_t>(n);
        }
    }
};

const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";

}  // namespace

TEST_SUITE("mcp-stdio") {
    TEST_CASE("lines are framed by newline; a line over the limit is skipped unread and answered") {
        ScriptedTools tools;
        MemoryOutput out;
        MemoryLog log;
        Server server(tools, out, log, ServerOptions{});
        Pipe in;
        std::thread writer([&] {
            in.write_all(ping + "\n");
            in.write_all(std::string(3u << 20, 'x'));  // 3 MiB: far over the limit, in many reads
            in.write_all("\n" + ping + "\r\n");  // CR before LF is JSON whitespace
            in.write_all(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");  // the last one has no newline
            in.close_write();
        });
        StopReason why = serve_lines(in.r, -1, 64 * 1024, server);
        writer.join();
        CHECK(why == StopReason::end_of_input);
        auto lines = out.messages();
        REQUIRE(lines.size() == 4);
        CHECK(lines[0].at("id") == 1);
        CHECK(lines[1].at("error").at("code") == rpc_code::invalid_request);
        CHECK(std::string(lines[1].at("error").at("message").as_string()).find("65536") != std::string::npos);
        CHECK(lines[2].at("id") == 1);
        CHECK(lines[3].at("id") == 2);
    }

    TEST_CASE("a readable wake-up descriptor stops reading at once") {
        ScriptedTools tools;
        MemoryOutput out;
        MemoryLog log;
        Server server(tools, out, log, ServerOptions{});
        Pipe in, wake;
        wake.write_all("s");
        CHECK(serve_lines(in.r, wake.r, 1024, server) == StopReason::woken);
    }

    TEST_CASE("FdLog: one line per entry, whatever the text holds; below the threshold nothing") {
        Pipe p;
        FdLog log(p.w, LogLevel::info);
        log.log(LogLevel::debug, "hidden");
        log.log(LogLevel::warning, "client \"x\nfake: error: y\x1b[31m\"");
        p.close_write();
        char buf[256] = {};
        ssize_t n = ::read(p.r, buf, sizeof buf);
        REQUIRE(n > 0);
        CHECK(std::string(buf, static_cast<std::size_t>(n)) ==
              "cordon mcp: warning: client \"x\\x0afake: error: y\\x1b[31m\"\n");
    }

    TEST_CASE("FdOutput writes whole lines and reports a reader that went away") {
        Pipe p;
        FdOutput out(p.w);
        CHECK(out.write_line("{\"a\":1}"));
        char buf[16] = {};
        REQUIRE(::read(p.r, buf, sizeof buf) == 8);
        CHECK(std::string(buf, 8) == "{\"a\":1}\n");
        ::close(p.r);
        p.r = -1;
        ::signal(SIGPIPE, SIG_IGN);  // as `cordon mcp` does
        CHECK_FALSE(out.write_line("x"));
        CHECK_FALSE(out.write_line("y"));  // and stays broken
    }
}
