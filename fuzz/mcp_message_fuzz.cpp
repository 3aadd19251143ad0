// SPDX-License-Identifier: MIT
// Fuzz target: MCP lines through the JSON-RPC decoder and the whole server; every answer must be JSON-RPC.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "json_rpc.hpp"
#include "server.hpp"

namespace {

using namespace cordon::mcp;

// Tools that answer at once: the target is the protocol layer, not the sandbox.
class InstantTools : public McpTools {
public:
    RunCommandResult run_command(const RunCommandArgs& a, CancelToken&, ProgressSink& progress) override {
        progress.report(1, 2, "half");
        progress.report(1, 2, "not increasing");
        RunCommandResult r;
        r.status = a.argv.size() % 2 ? CallStatus::completed : CallStatus::failed;
        r.out = a.command.value_or("") + "\xff";
        r.clamped = true;
        for (const auto& p : a.readwrite_paths)
            r.clamp.push_back({"/readwrite_paths/0", "/f", p, cordon::Verdict::dropped, {}, p});
        if (r.status == CallStatus::failed) r.error = ToolError{"execution-failed", r.out, "/argv"};
        return r;
    }
    ReadFileResult read_file(const ReadFileArgs& a, CancelToken&, ProgressSink&) override {
        ReadFileResult r;
        r.status = CallStatus::completed;
        r.content = a.path;
        return r;
    }
    WriteFileResult write_file(const WriteFileArgs& a, CancelToken&, ProgressSink&) override {
        WriteFileResult r;
        r.status = a.content.empty() ? CallStatus::refused : CallStatus::completed;
        r.bytes_written = a.content.size();
        if (r.status == CallStatus::refused) r.error = ToolError{"outside-ceiling", a.path, "/path"};
        return r;
    }
    SandboxDescription describe_sandbox() override { return SandboxDescription{}; }
    ToolLimits limits() const override { return ToolLimits{}; }
};

class CheckedOutput : public OutputSink {
public:
    bool write_line(const std::string& line) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (line.find('\n') != std::string::npos) std::abort();  // the stdio framing would break
        // abort, not throw: the server would catch an exception and hide the finding
        try {
            boost::json::value v = boost::json::parse(line);
            const boost::json::object& o = v.is_array() ? v.as_array().at(0).as_object() : v.as_object();
            if (o.at("jsonrpc") != "2.0") std::abort();
        } catch (const std::exception&) { std::abort(); }
        return true;
    }

private:
    std::mutex mutex_;
};

class NoLog : public LogSink {
public:
    void log(LogLevel, const std::string&) override {}
};

void check_decoder(std::string_view line) {
    DecodeLimits limits;
    Decoded d = decode_line(line, limits);
    if (d.messages.empty() || (!d.batch && d.messages.size() != 1) || d.messages.size() > limits.max_batch)
        std::abort();
    for (const Message& m : d.messages) {
        if (m.kind == Message::Kind::request && (!m.id || !valid_request_id(*m.id) || m.method.empty())) std::abort();
        if (m.kind == Message::Kind::notification && (m.id || m.method.empty())) std::abort();
        if (m.kind != Message::Kind::invalid) continue;
        const int c = m.error.code;
        if (c != rpc_code::parse_error && c != rpc_code::invalid_request && c != rpc_code::invalid_params &&
            c != rpc_code::internal_error)
            std::abort();
        boost::json::parse(encode_error(m.id, m.error));  // an error is always encodable
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start <= input.size();) {
        std::size_t nl = input.find('\n', start);
        if (nl == std::string_view::npos) nl = input.size();
        lines.push_back(input.substr(start, nl - start));
        start = nl + 1;
    }
    for (auto line : lines) check_decoder(line);

    // The same lines through a server, after an initialize whose revision the first byte picks.
    InstantTools tools;
    CheckedOutput out;
    NoLog log;
    ServerOptions options;
    options.max_concurrency = 2;
    options.max_queued = 2;
    Server server(tools, out, log, options);
    static const char* versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "9999-99-99"};
    const std::string version = versions[size ? data[0] % 5 : 0];
    server.handle_line(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")" + version +
                       R"(","capabilities":{}}})");
    for (auto line : lines) server.handle_line(line);
    server.drain();
    server.shutdown();
    return 0;
}
