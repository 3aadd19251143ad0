// SPDX-License-Identifier: MIT
// Test support for the MCP server: an in-memory client side (lines out, logs) and scripted tools.
#pragma once

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "server.hpp"
#include "tools.hpp"

namespace cordon::mcp::test {

/// Every line the server wrote, parsed, with a way to wait for one.
class MemoryOutput : public OutputSink {
public:
    bool write_line(const std::string& line) override {
        std::lock_guard<std::mutex> lock(mutex_);
        raw_.push_back(line);
        changed_.notify_all();
        return true;
    }
    std::vector<std::string> raw() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return raw_;
    }
    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return raw_.size();
    }
    /// Lines parsed as JSON (a line that is not JSON fails the test that reads it).
    std::vector<boost::json::value> messages() const {
        std::vector<boost::json::value> out;
        for (const auto& l : raw()) out.push_back(boost::json::parse(l));
        return out;
    }
    /// The response with this id (serialized JSON id, e.g. "7" or "\"a\""), waiting up to `ms`.
    std::optional<boost::json::object> response(const std::string& id, int ms = 10000) {
        std::optional<boost::json::object> found;
        wait(
            [&] {
                for (const auto& l : raw()) {
                    auto v = boost::json::parse(l);
                    if (v.is_object() && v.as_object().if_contains("id") &&
                        boost::json::serialize(v.as_object().at("id")) == id && !v.as_object().contains("method")) {
                        found = v.as_object();
                        return true;
                    }
                }
                return false;
            },
            ms);
        return found;
    }
    /// Waits until `done()` holds; it is evaluated without our lock, so it may call anything.
    bool wait(const std::function<bool()>& done, int ms = 10000) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait_for(lock, std::chrono::milliseconds(10));
        }
        return true;
    }
    void clear() {
        std::lock_guard<std::mutex> lock(mutex_);
        raw_.clear();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> raw_;
};

class MemoryLog : public LogSink {
public:
    void log(LogLevel, const std::string& text) override {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(text);
    }
    std::vector<std::string> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

/// Tools whose run_command follows a script in `command`:
///   "block"        wait until cancelled (polling the cancel descriptor, as the runner does), 20 s at most
///   "progress:N"   report N progress steps, then complete
///   "bytes"        complete with stdout that is not UTF-8
///   anything else  complete with that text as stdout
class ScriptedTools : public McpTools {
public:
    RunCommandResult run_command(const RunCommandArgs& args, CancelToken& cancel, ProgressSink& progress) override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            started.push_back(args.command.value_or(""));
        }
        changed_.notify_all();
        RunCommandResult r;
        r.status = CallStatus::completed;
        r.exit_code = 0;
        r.clamped = true;
        const std::string script = args.command.value_or("");
        if (script == "block") {
            pollfd p{cancel.fd(), POLLIN, 0};
            int ready = ::poll(&p, 1, 20000);
            std::lock_guard<std::mutex> lock(mutex_);
            saw_cancel += ready == 1;
            r.status = ready == 1 ? CallStatus::cancelled : CallStatus::completed;
        } else if (script.rfind("progress:", 0) == 0) {
            int n = std::stoi(script.substr(9));
            for (int i = 0; i < n; ++i) progress.report(i % 2 ? i - 1 : i, n, "step " + std::to_string(i));
        } else if (script == "bytes") {
            r.out = std::string("\xff\xfe ok", 5);
        } else {
            r.out = script;
            r.clamp.push_back(Decision{"/readwrite_paths/0",
                                       "/filesystem/readwritePaths/0",
                                       "/etc",
                                       Verdict::dropped,
                                       {},
                                       "outside every ceiling root"});
        }
        return r;
    }
    ReadFileResult read_file(const ReadFileArgs& args, CancelToken&, ProgressSink&) override {
        ReadFileResult r;
        r.status = CallStatus::completed;
        r.path = args.path;
        r.content = "content of " + args.path;
        return r;
    }
    WriteFileResult write_file(const WriteFileArgs& args, CancelToken&, ProgressSink&) override {
        WriteFileResult r;
        r.status = CallStatus::completed;
        r.path = args.path;
        r.bytes_written = args.content.size();
        std::lock_guard<std::mutex> lock(mutex_);
        written = args.content;
        return r;
    }
    SandboxDescription describe_sandbox() override {
        SandboxDescription d;
        d.backend = "bubblewrap";
        d.network = "block";
        d.readwrite_roots = {"/tmp/work"};
        d.limits = limits();
        return d;
    }
    ToolLimits limits() const override {
        ToolLimits l;
        l.max_write_bytes = 16;
        l.max_read_bytes = 100;
        return l;
    }

    bool wait_started(std::size_t n, int ms = 10000) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return started.size() >= n; });
    }
    std::size_t started_count() {
        std::lock_guard<std::mutex> lock(mutex_);
        return started.size();
    }
    int cancels() {
        std::lock_guard<std::mutex> lock(mutex_);
        return saw_cancel;
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> started;
    int saw_cancel = 0;
    std::string written;
};

}  // namespace cordon::mcp::test
