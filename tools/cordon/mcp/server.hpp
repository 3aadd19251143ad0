// SPDX-License-Identifier: MIT
// cordon mcp: the MCP server: lifecycle, dispatch, tool calls on bounded workers, progress, cancellation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "json_rpc.hpp"
#include "schemas.hpp"
#include "tools.hpp"

namespace cordon::mcp {

/// Protocol revisions this server speaks, newest first; the first is what it offers.
inline constexpr std::string_view supported_protocol_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                                   "2024-11-05"};

/// RFC 5424 severities, as MCP's logging/setLevel names them.
enum class LogLevel : int { debug, info, notice, warning, error, critical, alert, emergency };
std::string_view to_string(LogLevel l) noexcept;
std::optional<LogLevel> log_level_from_string(std::string_view s) noexcept;

/// Where protocol lines go (stdout on the stdio transport). Called from several threads; one call
/// writes one whole line. Returns false once the peer is gone.
class OutputSink {
public:
    virtual ~OutputSink() = default;
    virtual bool write_line(const std::string& line) = 0;
};

/// Where the server's own diagnostics go (stderr); never the protocol stream.
class LogSink {
public:
    virtual ~LogSink() = default;
    virtual void log(LogLevel level, const std::string& text) = 0;
};

struct ServerOptions {
    std::size_t max_concurrency = 4;  ///< tool calls running at once
    std::size_t max_queued = 16;  ///< accepted calls waiting for a free slot; more are refused (busy)
    std::size_t max_batch = 64;  ///< messages in one JSON-RPC batch (protocols that have batches)
    std::string version;  ///< serverInfo.version
};

/// One MCP session. handle_line() is called by one reader thread; tool calls run on their own
/// threads, at most max_concurrency at once, and answer through the OutputSink when they end.
class Server {
public:
    Server(McpTools& tools, OutputSink& out, LogSink& log, ServerOptions options);
    ~Server();  ///< shutdown()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// One line of input (without its newline). Never throws; every malformed message is answered
    /// with a JSON-RPC error (or logged, for a notification nobody waits for).
    void handle_line(std::string_view line) noexcept;
    /// The transport dropped a line of `bytes` bytes, more than `limit`, unread.
    void handle_oversized(std::size_t bytes, std::size_t limit) noexcept;
    /// Cancels every call (their process trees are killed) and waits for all of them. Idempotent.
    void shutdown() noexcept;
    /// Waits until every call has ended by itself and answered (input ended, output may still be read).
    void drain() noexcept;

    std::size_t calls_in_flight() const;
    std::string protocol_version() const;  ///< empty before initialize

private:
    struct Call;
    struct Batch;
    class CallProgress;
    enum class State { awaiting_initialize, initializing, ready };

    void dispatch(const Message& m, const std::shared_ptr<Batch>& batch);
    void handle_request(const Message& m, const std::shared_ptr<Batch>& batch);
    void handle_notification(const Message& m);
    void reply(const std::shared_ptr<Batch>& batch, const std::string& text);
    void reply_error(const std::shared_ptr<Batch>& batch, const std::optional<boost::json::value>& id, int code,
                     std::string message, std::string field);

    void initialize(const Message& m, const std::shared_ptr<Batch>& batch);
    void list_tools(const Message& m, const std::shared_ptr<Batch>& batch);
    void set_level(const Message& m, const std::shared_ptr<Batch>& batch);
    void call_tool(const Message& m, const std::shared_ptr<Batch>& batch);
    void cancel(const Message& m);
    bool start_call(const std::shared_ptr<Call>& call, const Message& m, const std::shared_ptr<Batch>& batch);
    void run_call(const std::shared_ptr<Call>& call);
    boost::json::object execute(Call& call, std::string& summary);
    boost::json::object tool_result(const std::optional<boost::json::object>& structured, bool is_error) const;
    void reap_finished();

    void log(LogLevel level, const std::string& text);
    bool structured_output() const;  ///< outputSchema/structuredContent exist in the negotiated revision
    bool batches_allowed() const;

    McpTools& tools_;
    OutputSink& out_;
    LogSink& log_;
    ServerOptions options_;
    const std::vector<ToolDefinition> definitions_;  // parsed once: the tools' limits are fixed

    mutable std::mutex mutex_;  // everything below
    std::condition_variable slot_free_;
    State state_ = State::awaiting_initialize;
    std::string version_;
    std::string client_name_;
    std::optional<LogLevel> client_level_;  // notifications/message only after logging/setLevel
    std::map<std::string, std::shared_ptr<Call>> calls_;  // by id_key
    std::size_t running_ = 0, queued_ = 0;
    bool stopping_ = false;
    std::list<std::thread> threads_;
    std::vector<std::thread::id> finished_;
};

}  // namespace cordon::mcp
