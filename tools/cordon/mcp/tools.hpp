// SPDX-License-Identifier: MIT
// cordon mcp: what the four tools mean, as typed arguments and results behind one interface.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cordon/capabilities.hpp"
#include "cordon/clamp_report.hpp"

namespace cordon::mcp {

/// Cancellation of one tool call. cancel() may come from any thread, any number of times; the
/// descriptor becomes readable at the first one and stays readable, which is what
/// RunOptions::cancel_fd wants (the POSIX runner polls it and kills the run's process group).
class CancelToken {
public:
    CancelToken();
    ~CancelToken();
    CancelToken(const CancelToken&) = delete;
    CancelToken& operator=(const CancelToken&) = delete;

    void cancel() noexcept;
    bool cancelled() const noexcept { return cancelled_.load(); }
    /// Read end of a close-on-exec pipe, or -1 when no pipe could be made (then valid() is false).
    int fd() const noexcept { return read_fd_; }
    bool valid() const noexcept { return read_fd_ >= 0; }

private:
    std::atomic<bool> cancelled_{false};
    int read_fd_ = -1;
    int write_fd_ = -1;
};

/// Where a tool reports how far it got. The server turns reports into notifications/progress when
/// the client asked for them, keeps the value strictly increasing and drops reports after the call
/// ended, so a tool may report from any thread at any time.
class ProgressSink {
public:
    virtual ~ProgressSink() = default;
    virtual void report(double progress, std::optional<double> total, const std::string& message) = 0;
};

/// Reports elapsed milliseconds every `interval` until destroyed: progress for a call that blocks
/// (Runner::run) and cannot say more. `total_ms` (0 = unknown) is the run's timeout.
class Heartbeat {
public:
    Heartbeat(ProgressSink& sink, std::chrono::milliseconds interval, std::uint32_t total_ms);
    ~Heartbeat();
    Heartbeat(const Heartbeat&) = delete;
    Heartbeat& operator=(const Heartbeat&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

/// How a tool call ended. `cancelled` results are never sent (the client asked to forget them).
enum class CallStatus : std::uint8_t { completed, timed_out, cancelled, refused, failed };
std::string_view to_string(CallStatus s) noexcept;

/// Why a call was refused or failed. `field` is a JSON pointer into the tool's arguments
/// ("/readwrite_paths/0"), empty when no single argument is at fault.
struct ToolError {
    std::string code;  ///< cordon's stable error codes (docs/errors.md), or invalid-arguments
    std::string message;
    std::string field;
};

/// One clamp decision about a requested item, with the tool argument it came from.
struct Decision {
    std::string argument;  ///< JSON pointer into the tool arguments, e.g. "/env/HOME"
    std::string field;  ///< JSON pointer into the MXC request, e.g. "/process/env/0"
    std::string requested;
    Verdict verdict = Verdict::dropped;
    std::vector<ClampResultItem> result;
    std::string reason;
};

enum class NetworkChoice : std::uint8_t { block, allow };

/// run_command: exactly the request `cordon run` builds; exactly one of argv and command is set.
struct RunCommandArgs {
    std::vector<std::string> argv;
    std::optional<std::string> command;  ///< a shell line, run with sh -c
    std::optional<std::string> cwd;
    std::vector<std::pair<std::string, std::string>> env;  ///< in the order given
    std::optional<std::uint32_t> timeout_ms;
    std::optional<NetworkChoice> network;
    std::vector<std::string> readonly_paths;
    std::vector<std::string> readwrite_paths;
};

struct RunCommandResult {
    CallStatus status = CallStatus::failed;
    int exit_code = -1;
    int signal = 0;
    std::string out, err;
    std::size_t out_dropped = 0, err_dropped = 0;
    std::uint64_t duration_ms = 0;
    std::string failure = "none";  ///< ExecutorFailure as text
    std::string failure_message;
    std::string command_line;  ///< what sh -c ran
    std::vector<Decision> clamp;
    bool clamped = false;  ///< clamp ran (a refusal before it has no report)
    std::optional<ToolError> error;
};

struct ReadFileArgs {
    std::string path;
    std::optional<std::size_t> max_bytes;
};

struct ReadFileResult {
    CallStatus status = CallStatus::failed;
    std::string path;  ///< canonical path that was read
    std::string content;  ///< bytes
    bool truncated = false;
    std::optional<ToolError> error;
};

struct WriteFileArgs {
    std::string path;
    std::string content;  ///< bytes, already decoded from the argument's encoding
};

struct WriteFileResult {
    CallStatus status = CallStatus::failed;
    std::string path;  ///< canonical path that was written
    std::size_t bytes_written = 0;
    std::optional<ToolError> error;
};

/// Limits a client should know; also what the tools' JSON Schemas state as maxima.
struct ToolLimits {
    std::size_t max_concurrency = 4;
    std::size_t output_limit = 64 * 1024;  ///< bytes kept per stream of run_command
    std::size_t max_read_bytes = 1024 * 1024;  ///< read_file
    std::size_t max_write_bytes = 256 * 1024;  ///< write_file
    std::uint32_t file_timeout_ms = 30000;  ///< read_file / write_file (the ceiling may lower it)
};

struct SandboxDescription {
    std::string backend;
    std::string executor_path, executor_sha256, executor_sdk;
    Capabilities capabilities;
    std::vector<std::string> readonly_roots, readwrite_roots, denied_roots;
    std::uint32_t timeout_ms = 0;  ///< ceiling limit; 0 = none
    std::string network;  ///< block | allow
    std::vector<std::string> allowed_hosts, env_allow;
    std::string ceiling_file;  ///< empty when the ceiling came from CORDON_* variables
    ToolLimits limits;
};

/// The tools' semantics. Implementations must be safe to call from several threads at once; the
/// server validates every argument against the published schema before calling them.
class McpTools {
public:
    virtual ~McpTools() = default;
    virtual RunCommandResult run_command(const RunCommandArgs& args, CancelToken& cancel, ProgressSink& progress) = 0;
    virtual ReadFileResult read_file(const ReadFileArgs& args, CancelToken& cancel, ProgressSink& progress) = 0;
    virtual WriteFileResult write_file(const WriteFileArgs& args, CancelToken& cancel, ProgressSink& progress) = 0;
    virtual SandboxDescription describe_sandbox() = 0;
    virtual ToolLimits limits() const = 0;
};

}  // namespace cordon::mcp
