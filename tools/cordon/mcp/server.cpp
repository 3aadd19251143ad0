// SPDX-License-Identifier: MIT
// cordon mcp: the server's dispatch; tool calls run on their own threads behind a counting gate.
#include "server.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <variant>

#include <boost/json/serialize.hpp>

#include "cordon/detail/json_pointer.hpp"
#include "schemas.hpp"
#include "tool_json.hpp"

namespace cordon::mcp {

namespace {

constexpr std::string_view level_names[] = {"debug", "info",     "notice", "warning",
                                            "error", "critical", "alert",  "emergency"};

// Revisions before 2025-06-18 have no outputSchema/structuredContent/title; batches exist only in
// 2025-03-26 (and in plain JSON-RPC 2.0, which 2024-11-05 builds on without saying otherwise).
bool newer_or_equal(const std::string& version, std::string_view than) { return version >= than; }

std::string id_text(const boost::json::value& id) { return boost::json::serialize(id); }

const std::string instructions =
    "cordon runs commands in an OS sandbox bounded by the operator's ceiling. Nothing is granted unless a call "
    "asks for it, and a call can only narrow the ceiling: call describe_sandbox to see what may be granted, then "
    "list the paths a command needs in run_command's readonly_paths and readwrite_paths. Each result reports what "
    "the ceiling kept, narrowed or dropped, and why.";

}  // namespace

std::string_view to_string(LogLevel l) noexcept { return level_names[static_cast<int>(l)]; }

std::optional<LogLevel> log_level_from_string(std::string_view s) noexcept {
    for (int i = 0; i < 8; ++i)
        if (level_names[i] == s) return static_cast<LogLevel>(i);
    return std::nullopt;
}

// The responses of one JSON-RPC batch, written as one array once the last request has answered.
struct Server::Batch {
    explicit Batch(OutputSink& o) : out(o) {}
    OutputSink& out;
    std::mutex mutex;
    std::vector<std::string> responses;
    std::size_t pending = 0;
    bool sealed = false;  // every member dispatched

    void expect() {
        std::lock_guard<std::mutex> lock(mutex);
        ++pending;
    }
    void deliver(const std::string* text) {
        std::lock_guard<std::mutex> lock(mutex);
        if (text) responses.push_back(*text);
        --pending;
        flush();
    }
    void seal() {
        std::lock_guard<std::mutex> lock(mutex);
        sealed = true;
        flush();
    }
    void flush() {  // mutex held
        if (!sealed || pending != 0 || responses.empty()) return;  // only notifications: nothing at all
        std::string line = "[";
        for (std::size_t i = 0; i < responses.size(); ++i) line += (i ? "," : "") + responses[i];
        out.write_line(line + "]");
        responses.clear();
    }
};

using ToolArgs = std::variant<RunCommandArgs, ReadFileArgs, WriteFileArgs>;

struct Server::Call {
    boost::json::value id;
    std::string key;
    std::string tool;
    ToolArgs args;
    std::optional<boost::json::value> progress_token;
    std::shared_ptr<Batch> batch;
    CancelToken token;
    std::atomic<bool> cancelled{false};
    std::chrono::steady_clock::time_point accepted = std::chrono::steady_clock::now();
    std::mutex progress_mutex;  // orders progress notifications before the response
    bool done = false;  // under progress_mutex: no progress after this
    double last_progress = -1;
};

class Server::CallProgress : public ProgressSink {
public:
    CallProgress(OutputSink& out, Call& call) : out_(out), call_(call) {}
    void report(double progress, std::optional<double> total, const std::string& message) override {
        if (!call_.progress_token) return;
        std::lock_guard<std::mutex> lock(call_.progress_mutex);
        if (call_.done || call_.cancelled) return;
        // MCP: progress MUST increase with each notification, whatever the tool reports.
        if (!std::isfinite(progress)) return;
        if (!(progress > call_.last_progress)) progress = std::floor(call_.last_progress) + 1;
        call_.last_progress = progress;
        boost::json::object p{{"progressToken", *call_.progress_token}, {"progress", number(progress)}};
        if (total && std::isfinite(*total) && *total >= progress) p["total"] = number(*total);
        if (!message.empty()) p["message"] = utf8_lossy(message);
        out_.write_line(encode_notification("notifications/progress", std::move(p)));
    }

private:
    // 3000 rather than 3E3: whole numbers as integers, which is how clients print them.
    static boost::json::value number(double d) {
        if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return static_cast<std::int64_t>(d);
        return d;
    }

    OutputSink& out_;
    Call& call_;
};

Server::Server(McpTools& tools, OutputSink& out, LogSink& log, ServerOptions options)
    : tools_(tools),
      out_(out),
      log_(log),
      options_(std::move(options)),
      definitions_(tool_definitions(tools.limits())) {
    if (options_.max_concurrency == 0) options_.max_concurrency = 1;
}

Server::~Server() { shutdown(); }

std::size_t Server::calls_in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_.size();
}

std::string Server::protocol_version() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return version_;
}

bool Server::structured_output() const { return newer_or_equal(protocol_version(), "2025-06-18"); }

bool Server::batches_allowed() const {
    std::string v = protocol_version();
    return !v.empty() && !newer_or_equal(v, "2025-06-18");
}

void Server::log(LogLevel level, const std::string& text) {
    log_.log(level, text);
    std::optional<LogLevel> threshold;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_ != State::awaiting_initialize) threshold = client_level_;
    }
    if (threshold && level >= *threshold)
        out_.write_line(encode_notification(
            "notifications/message", {{"level", to_string(level)}, {"logger", "cordon"}, {"data", utf8_lossy(text)}}));
}

void Server::reply(const std::shared_ptr<Batch>& batch, const std::string& text) {
    if (batch)
        batch->deliver(&text);
    else
        out_.write_line(text);
}

void Server::reply_error(const std::shared_ptr<Batch>& batch, const std::optional<boost::json::value>& id, int code,
                         std::string message, std::string field) {
    reply(batch, encode_error(id, RpcError{code, std::move(message), std::move(field)}));
}

void Server::handle_oversized(std::size_t bytes, std::size_t limit) noexcept {
    try {
        log(LogLevel::warning,
            "dropped a message of " + std::to_string(bytes) + " bytes (limit " + std::to_string(limit) + ")");
        reply_error(nullptr, std::nullopt, rpc_code::invalid_request,
                    "message of more than " + std::to_string(limit) + " bytes; it was not read", "");
    } catch (...) {}
}

void Server::handle_line(std::string_view line) noexcept {
    try {
        reap_finished();
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // a blank line is no message
        Decoded decoded = decode_line(line, DecodeLimits{options_.max_batch});
        if (!decoded.batch) return dispatch(decoded.messages.front(), nullptr);
        if (!batches_allowed()) {
            std::string v = protocol_version();
            reply_error(nullptr, std::nullopt, rpc_code::invalid_request,
                        v.empty() ? "a batch cannot come before initialize"
                                  : "JSON-RPC batches are not part of MCP " + v + " (removed in 2025-06-18)",
                        "");
            return;
        }
        auto batch = std::make_shared<Batch>(out_);
        for (const Message& m : decoded.messages) dispatch(m, batch);
        batch->seal();
    } catch (const std::exception& e) {
        try {
            log(LogLevel::error, std::string("internal error while handling a message: ") + e.what());
            reply_error(nullptr, std::nullopt, rpc_code::internal_error, "internal error: " + std::string(e.what()),
                        "");
        } catch (...) {}
    } catch (...) {}
}

void Server::dispatch(const Message& m, const std::shared_ptr<Batch>& batch) {
    switch (m.kind) {
        case Message::Kind::invalid:
            // A notification with bad params has nobody waiting for an answer: log it only.
            if (!m.id && !m.method.empty()) {
                log(LogLevel::warning, "ignored notification " + m.method + ": " + m.error.message);
                return;
            }
            log(LogLevel::warning,
                "malformed message: " + m.error.message + (m.error.field.empty() ? "" : " (at " + m.error.field + ")"));
            if (batch) batch->expect();
            reply(batch, encode_error(m.id, m.error));
            return;
        case Message::Kind::response:
            log(LogLevel::debug, "ignored a response to id " + id_text(*m.id) + ": this server sends no requests");
            return;
        case Message::Kind::notification:
            return handle_notification(m);
        case Message::Kind::request:
            if (batch) batch->expect();
            return handle_request(m, batch);
    }
}

void Server::handle_request(const Message& m, const std::shared_ptr<Batch>& batch) {
    const std::string& method = m.method;
    if (method == "ping") return reply(batch, encode_result(*m.id, {}));
    if (method == "initialize") {
        if (batch)
            return reply_error(batch, m.id, rpc_code::invalid_request, "initialize cannot be part of a batch",
                               "/method");
        return initialize(m, batch);
    }
    const bool known = method == "tools/list" || method == "tools/call" || method == "logging/setLevel";
    if (!known)
        return reply_error(batch, m.id, rpc_code::method_not_found, "method not found: " + utf8_lossy(method),
                           "/method");
    State state;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        state = state_;
    }
    if (state == State::awaiting_initialize)
        return reply_error(batch, m.id, rpc_code::invalid_request,
                           "the session is not initialized: send initialize first", "/method");
    if (method == "tools/list") return list_tools(m, batch);
    if (method == "tools/call") return call_tool(m, batch);
    return set_level(m, batch);
}

void Server::handle_notification(const Message& m) {
    if (m.method == "notifications/initialized") {
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_ == State::initializing) state_ = State::ready;
        return;
    }
    if (m.method == "notifications/cancelled") return cancel(m);
    log(LogLevel::debug, "ignored notification " + utf8_lossy(m.method));
}

void Server::initialize(const Message& m, const std::shared_ptr<Batch>& batch) {
    const boost::json::object& p = m.params;
    const auto* requested = p.if_contains("protocolVersion");
    if (!requested || !requested->is_string())
        return reply_error(batch, m.id, rpc_code::invalid_params, "protocolVersion must be a string",
                           "/params/protocolVersion");
    if (const auto* c = p.if_contains("capabilities"); c && !c->is_object())
        return reply_error(batch, m.id, rpc_code::invalid_params, "capabilities must be an object",
                           "/params/capabilities");
    std::string client = "unnamed client";
    if (const auto* info = p.if_contains("clientInfo")) {
        if (!info->is_object())
            return reply_error(batch, m.id, rpc_code::invalid_params, "clientInfo must be an object",
                               "/params/clientInfo");
        if (const auto* name = info->get_object().if_contains("name"); name && name->is_string())
            client = utf8_lossy(name->get_string());
    }
    // Negotiation: the client's revision when this server speaks it, else the newest it speaks.
    std::string version(supported_protocol_versions[0]);
    for (std::string_view v : supported_protocol_versions)
        if (requested->get_string() == v) version = std::string(v);
    bool again;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        again = state_ != State::awaiting_initialize;
        if (!again) {
            state_ = State::initializing;
            version_ = version;
            client_name_ = client;
        }
    }
    if (again) return reply_error(batch, m.id, rpc_code::invalid_request, "initialize was already received", "/method");
    boost::json::object info{{"name", "cordon"}, {"version", options_.version}};
    if (newer_or_equal(version, "2025-06-18")) info["title"] = "cordon sandbox";
    boost::json::object result{
        {"protocolVersion", version},
        {"capabilities", {{"tools", {{"listChanged", false}}}, {"logging", boost::json::object{}}}},
        {"serverInfo", std::move(info)}};
    if (newer_or_equal(version, "2025-03-26")) result["instructions"] = instructions;
    log(LogLevel::info, client + " asked for MCP " + utf8_lossy(requested->get_string()) + "; speaking " + version);
    reply(batch, encode_result(*m.id, std::move(result)));
}

void Server::list_tools(const Message& m, const std::shared_ptr<Batch>& batch) {
    for (const auto& member : m.params) {
        if (member.key() == "_meta") continue;
        if (member.key() == "cursor")  // this server never hands out a cursor: one page holds every tool
            return reply_error(batch, m.id, rpc_code::invalid_params, "unknown cursor", "/params/cursor");
        return reply_error(batch, m.id, rpc_code::invalid_params,
                           "unknown member \"" + utf8_lossy(member.key()) + "\" in tools/list params",
                           detail::pointer_child("/params", member.key()));
    }
    const bool structured = structured_output();
    const bool annotated = newer_or_equal(protocol_version(), "2025-03-26");
    boost::json::array list;
    for (const ToolDefinition& t : definitions_) {
        boost::json::object o{{"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
        if (structured) {
            o["title"] = t.title;
            o["outputSchema"] = t.output_schema;
        }
        if (annotated) {
            boost::json::object a = t.annotations;
            a["title"] = t.title;
            o["annotations"] = std::move(a);
        }
        list.push_back(std::move(o));
    }
    reply(batch, encode_result(*m.id, {{"tools", std::move(list)}}));
}

void Server::set_level(const Message& m, const std::shared_ptr<Batch>& batch) {
    for (const auto& member : m.params)
        if (member.key() != "_meta" && member.key() != "level")
            return reply_error(batch, m.id, rpc_code::invalid_params,
                               "unknown member \"" + utf8_lossy(member.key()) + "\" in logging/setLevel params",
                               detail::pointer_child("/params", member.key()));
    const auto* level = m.params.if_contains("level");
    std::optional<LogLevel> parsed;
    if (level && level->is_string()) parsed = log_level_from_string(level->get_string());
    if (!parsed)
        return reply_error(batch, m.id, rpc_code::invalid_params,
                           "level must be one of debug, info, notice, warning, error, critical, alert, emergency",
                           "/params/level");
    {
        std::lock_guard<std::mutex> lock(mutex_);
        client_level_ = parsed;
    }
    reply(batch, encode_result(*m.id, {}));
}

void Server::cancel(const Message& m) {
    // Invalid or late cancellations are ignored, as the spec asks: the call may have just ended.
    const auto* id = m.params.if_contains("requestId");
    if (!id || !valid_request_id(*id)) {
        log(LogLevel::warning, "ignored notifications/cancelled without a valid requestId");
        return;
    }
    std::string reason;
    if (const auto* r = m.params.if_contains("reason"); r && r->is_string())
        reason = utf8_lossy(std::string_view(r->get_string()).substr(0, 200));
    std::shared_ptr<Call> call;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = calls_.find(id_key(*id));
        if (it != calls_.end()) {
            call = it->second;
            call->cancelled = true;
            call->token.cancel();
        }
    }
    slot_free_.notify_all();  // a queued call wakes up and leaves without running
    if (!call) {
        log(LogLevel::debug, "cancellation of id " + id_text(*id) + " ignored: no call in progress has it");
        return;
    }
    log(LogLevel::notice, "cancelled " + call->tool + " (id " + id_text(*id) + ")" +
                              (reason.empty() ? "" : ": " + reason) + "; its process tree is killed");
}

void Server::call_tool(const Message& m, const std::shared_ptr<Batch>& batch) {
    const boost::json::object& p = m.params;
    for (const auto& member : p)
        if (member.key() != "name" && member.key() != "arguments" && member.key() != "_meta")
            return reply_error(batch, m.id, rpc_code::invalid_params,
                               "unknown member \"" + utf8_lossy(member.key()) + "\" in tools/call params",
                               detail::pointer_child("/params", member.key()));
    const auto* name = p.if_contains("name");
    if (!name || !name->is_string())
        return reply_error(batch, m.id, rpc_code::invalid_params, "name must be a string", "/params/name");
    const ToolDefinition* def = nullptr;
    for (const auto& d : definitions_)
        if (d.name == name->get_string()) def = &d;
    if (!def)
        return reply_error(batch, m.id, rpc_code::invalid_params,
                           "unknown tool: " + utf8_lossy(name->get_string()) +
                               " (tools: run_command, read_file, write_file, describe_sandbox)",
                           "/params/name");
    const auto* arguments = p.if_contains("arguments");
    if (arguments && !arguments->is_object())
        return reply_error(batch, m.id, rpc_code::invalid_params, "arguments must be an object", "/params/arguments");
    auto call = std::make_shared<Call>();
    if (const auto* meta = p.if_contains("_meta")) {
        if (!meta->is_object())
            return reply_error(batch, m.id, rpc_code::invalid_params, "_meta must be an object", "/params/_meta");
        if (const auto* token = meta->get_object().if_contains("progressToken")) {
            if (!valid_request_id(*token))
                return reply_error(batch, m.id, rpc_code::invalid_params,
                                   "progressToken must be a string or an integer", "/params/_meta/progressToken");
            call->progress_token = *token;
        }
    }
    const boost::json::object args = arguments ? arguments->get_object() : boost::json::object{};
    call->tool = def->name;
    call->id = *m.id;
    call->key = id_key(*m.id);
    call->batch = batch;
    // Argument errors are tool errors (isError), so the model sees them and can correct itself.
    auto refuse = [&](const SchemaError& e) {
        log(LogLevel::info, call->tool + " refused: " + e.message + (e.field.empty() ? "" : " at " + e.field));
        ToolError te{"invalid-arguments", e.message, e.field};
        reply(batch, encode_result(*m.id, tool_result(refused_output(call->tool, te), true)));
    };
    if (auto e = check_schema(boost::json::value(def->input_schema), boost::json::value(args))) return refuse(*e);
    if (call->tool == "describe_sandbox")
        return reply(batch, encode_result(*m.id, tool_result(to_json(tools_.describe_sandbox()), false)));
    if (call->tool == "run_command") {
        auto c = run_command_args(args);
        if (!c.args) return refuse(c.error);
        call->args = std::move(*c.args);
    } else if (call->tool == "read_file") {
        auto c = read_file_args(args);
        if (!c.args) return refuse(c.error);
        call->args = std::move(*c.args);
    } else {
        auto c = write_file_args(args, tools_.limits().max_write_bytes);
        if (!c.args) return refuse(c.error);
        call->args = std::move(*c.args);
    }
    start_call(call, m, batch);
}

bool Server::start_call(const std::shared_ptr<Call>& call, const Message& m, const std::shared_ptr<Batch>& batch) {
    std::string refusal;
    int code = rpc_code::internal_error;
    std::string field;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t limit = options_.max_concurrency + options_.max_queued;
        if (stopping_) {
            refusal = "the server is shutting down";
        } else if (calls_.count(call->key)) {
            code = rpc_code::invalid_request;
            refusal = "id " + id_text(call->id) + " is already used by a call in progress";
            field = "/id";
        } else if (running_ + queued_ >= limit) {
            code = rpc_code::server_busy;
            refusal = "server busy: " + std::to_string(running_) + " tool calls running and " +
                      std::to_string(queued_) + " queued (limits " + std::to_string(options_.max_concurrency) +
                      " and " + std::to_string(options_.max_queued) + "); retry when one has finished";
        } else if (!call->token.valid()) {
            refusal = "cannot create the call's cancellation pipe (out of file descriptors?)";
        } else {
            try {
                calls_[call->key] = call;
                ++queued_;
                threads_.emplace_back([this, call] { run_call(call); });
                return true;
            } catch (const std::exception& e) {
                calls_.erase(call->key);
                --queued_;
                refusal = std::string("cannot start a thread for the call: ") + e.what();
            }
        }
    }
    log(LogLevel::warning, call->tool + " (id " + id_text(call->id) + ") refused: " + refusal);
    reply_error(batch, m.id, code, refusal, field);
    return false;
}

void Server::run_call(const std::shared_ptr<Call>& call) {
    bool run = false;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        slot_free_.wait(lock, [&] { return running_ < options_.max_concurrency || call->cancelled || stopping_; });
        --queued_;
        if (!call->cancelled && !stopping_) {
            ++running_;
            run = true;
        }
    }
    std::optional<std::string> answer;
    std::string summary = "cancelled before it started";
    if (run) {
        try {
            boost::json::object result = execute(*call, summary);
            answer = encode_result(call->id, std::move(result));
        } catch (const std::exception& e) {
            summary = std::string("internal error: ") + e.what();
            answer = encode_error(call->id, RpcError{rpc_code::internal_error, summary, ""});
        } catch (...) {
            summary = "internal error";
            answer = encode_error(call->id, RpcError{rpc_code::internal_error, summary, ""});
        }
    }
    {
        std::lock_guard<std::mutex> progress(call->progress_mutex);
        call->done = true;
    }
    bool send;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (run) --running_;
        calls_.erase(call->key);
        send = !call->cancelled;  // decided under the lock a cancellation takes, so never both
        finished_.push_back(std::this_thread::get_id());
    }
    slot_free_.notify_all();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - call->accepted)
            .count();
    log(LogLevel::info, call->tool + " (id " + id_text(call->id) + "): " +
                            (send ? summary : "cancelled, not answered") + " after " + std::to_string(ms) + " ms");
    if (send && answer)
        reply(call->batch, *answer);
    else if (call->batch)
        call->batch->deliver(nullptr);
}

boost::json::object Server::execute(Call& call, std::string& summary) {
    CallProgress progress(out_, call);
    std::optional<boost::json::object> structured;
    CallStatus status = CallStatus::failed;
    if (auto* a = std::get_if<RunCommandArgs>(&call.args)) {
        RunCommandResult r = tools_.run_command(*a, call.token, progress);
        status = r.status;
        structured = to_json(r);
        summary = std::string(to_string(status));
        if (status == CallStatus::completed) summary += ", exit code " + std::to_string(r.exit_code);
    } else if (auto* rf = std::get_if<ReadFileArgs>(&call.args)) {
        ReadFileResult r = tools_.read_file(*rf, call.token, progress);
        status = r.status;
        structured = to_json(r);
        summary = std::string(to_string(status));
    } else {
        WriteFileResult r = tools_.write_file(std::get<WriteFileArgs>(call.args), call.token, progress);
        status = r.status;
        structured = to_json(r);
        summary = std::string(to_string(status));
    }
    if (status == CallStatus::refused || status == CallStatus::failed) {
        const auto* e = structured->if_contains("error");
        if (e) summary += ": " + std::string(e->at("message").as_string());
    }
    return tool_result(structured, status != CallStatus::completed);
}

boost::json::object Server::tool_result(const std::optional<boost::json::object>& structured, bool is_error) const {
    // The serialized JSON also goes into a text block, for clients older than structuredContent.
    std::string text = structured ? boost::json::serialize(*structured) : std::string("the arguments were refused");
    boost::json::object result{{"content", boost::json::array{boost::json::object{{"type", "text"}, {"text", text}}}}};
    if (structured && structured_output()) result["structuredContent"] = *structured;
    result["isError"] = is_error;
    return result;
}

void Server::reap_finished() {
    std::vector<std::thread> done;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto id : finished_)
            for (auto it = threads_.begin(); it != threads_.end(); ++it)
                if (it->get_id() == id) {
                    done.push_back(std::move(*it));
                    threads_.erase(it);
                    break;
                }
        finished_.clear();
    }
    for (auto& t : done) t.join();
}

void Server::drain() noexcept {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        slot_free_.wait(lock, [&] { return calls_.empty(); });
    }
    reap_finished();
}

void Server::shutdown() noexcept {
    std::list<std::thread> all;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        for (auto& entry : calls_) {
            entry.second->cancelled = true;
            entry.second->token.cancel();
        }
        all.swap(threads_);
        finished_.clear();
    }
    slot_free_.notify_all();
    for (auto& t : all)
        if (t.joinable()) t.join();
}

}  // namespace cordon::mcp
