// SPDX-License-Identifier: MIT
// The MCP server against hostile and well-formed input: lifecycle, envelope, tools, cancellation, limits.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <thread>

#include "schemas.hpp"
#include "support.hpp"

using namespace cordon::mcp;
using cordon::mcp::test::MemoryLog;
using cordon::mcp::test::MemoryOutput;
using cordon::mcp::test::ScriptedTools;
namespace json = boost::json;

namespace {

ServerOptions options(std::size_t concurrency = 4, std::size_t queued = 16) {
    ServerOptions o;
    o.max_concurrency = concurrency;
    o.max_queued = queued;
    o.version = "test";
    return o;
}

std::string initialize_line(const std::string& version, const std::string& id = "1") {
    return R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"initialize","params":{"protocolVersion":")" + version +
           R"(","capabilities":{},"clientInfo":{"name":"doctest","version":"1"}}})";
}

struct Session {
    ScriptedTools tools;
    MemoryOutput out;
    MemoryLog log;
    Server server;
    explicit Session(ServerOptions o = options()) : server(tools, out, log, std::move(o)) {}

    void send(const std::string& line) { server.handle_line(line); }
    json::object init(const std::string& version = "2025-11-25") {
        send(initialize_line(version));
        auto r = out.response("1");
        REQUIRE(r);
        send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
        out.clear();
        return *r;
    }
    // tools/call with id `id`; `arguments` is JSON text; `meta` too (empty: none).
    void call(int id, const std::string& tool, const std::string& arguments, const std::string& meta = "") {
        send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"tools/call","params":{"name":")" + tool +
             R"(","arguments":)" + arguments + (meta.empty() ? "" : R"(,"_meta":)" + meta) + "}}");
    }
    json::object result(int id) {
        auto r = out.response(std::to_string(id));
        REQUIRE_MESSAGE(r, "no response to id " << id);
        REQUIRE_MESSAGE(r->contains("result"), json::serialize(*r));
        return r->at("result").as_object();
    }
};

// The single error response on `out` (a line that has no id when `id` is empty).
void check_error(const json::object& response, int code, const std::string& field) {
    INFO(json::serialize(response));
    REQUIRE(response.contains("error"));
    CHECK(response.at("jsonrpc") == "2.0");
    const auto& e = response.at("error").as_object();
    CHECK(e.at("code").as_int64() == code);
    CHECK_FALSE(std::string(e.at("message").as_string()).empty());
    if (field.empty())
        CHECK_FALSE(e.contains("data"));
    else
        CHECK(e.at("data").at("field") == field.c_str());
}

json::object only_line(MemoryOutput& out) {
    auto lines = out.messages();
    REQUIRE_MESSAGE(lines.size() == 1, lines.size() << " lines");
    out.clear();
    return lines[0].as_object();
}

const ToolDefinition& definition(const std::string& name) {
    static const auto defs = tool_definitions(ScriptedTools().limits());
    for (const auto& d : defs)
        if (d.name == name) return d;
    FAIL("no tool " << name);
    return defs[0];
}

// An isError tool result whose structured error names `field`, and whose output fits the schema.
void check_refused(const json::object& result, const std::string& tool, const std::string& field) {
    INFO(json::serialize(result));
    CHECK(result.at("isError") == true);
    if (tool == "describe_sandbox") return;
    const auto& s = result.at("structuredContent").as_object();
    CHECK(s.at("status") == "refused");
    CHECK(s.at("error").at("code") == "invalid-arguments");
    if (field.empty())
        CHECK_FALSE(s.at("error").as_object().contains("field"));
    else
        CHECK(s.at("error").at("field") == field.c_str());
    CHECK_FALSE(check_schema(json::value(definition(tool).output_schema), json::value(s)));
    // The text block carries the same JSON, for clients older than structuredContent.
    CHECK(json::parse(result.at("content").at(0).at("text").as_string()) == json::value(s));
}

}  // namespace

TEST_SUITE("mcp-server") {
    TEST_CASE("initialize negotiates the revision: the client's when supported, else the newest") {
        for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
            Session s;
            auto r = s.init(v);
            CHECK(r.at("result").at("protocolVersion") == v);
            CHECK(r.at("result").at("serverInfo").at("name") == "cordon");
            CHECK(r.at("result").at("capabilities").at("tools").is_object());
            CHECK(s.server.protocol_version() == v);
        }
        for (const char* v : {"2026-07-28", "1999-01-01", ""}) {
            Session s;
            CHECK(s.init(v).at("result").at("protocolVersion") == "2025-11-25");
        }
    }

    TEST_CASE("lifecycle errors name the field: missing version, initialize twice, requests before initialize") {
        Session s;
        s.send(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/protocolVersion");
        s.send(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":7}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/protocolVersion");
        s.send(
            R"({"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":[]}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/clientInfo");
        s.send(R"({"jsonrpc":"2.0","id":4,"method":"tools/list"})");
        check_error(only_line(s.out), rpc_code::invalid_request, "/method");
        s.send(R"({"jsonrpc":"2.0","id":5,"method":"ping"})");  // ping is fine at any time
        CHECK(only_line(s.out).at("result").as_object().empty());
        s.send(R"({"jsonrpc":"2.0","id":"probe","method":"server/discover","params":{}})");  // a 2026 client's probe
        check_error(only_line(s.out), rpc_code::method_not_found, "/method");
        s.init();
        s.send(initialize_line("2025-11-25", "9"));
        check_error(only_line(s.out), rpc_code::invalid_request, "/method");
    }

    TEST_CASE("malformed lines get a JSON-RPC error without an id; nothing crashes or hangs") {
        Session s;
        s.init();
        const std::pair<std::string, std::string> cases[] = {
            {"{", ""},
            {"not json", ""},
            {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing", ""},
            {std::string("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xff\"}"), ""},  // invalid UTF-8
            {"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", "/id"},  // duplicate key
            {std::string(40, '[') + std::string(40, ']'), ""},  // nesting beyond 32
            {"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", ""},  // byte order mark
        };
        for (const auto& pair : cases) {  // (not a structured binding: CAPTURE's lambda captures it)
            const auto& line = pair.first;
            const auto& field = pair.second;
            CAPTURE(line);
            s.send(line);
            auto r = only_line(s.out);
            CHECK_FALSE(r.contains("id"));
            check_error(r, rpc_code::parse_error, field);
        }
        s.send("   ");  // a blank line is no message: no answer
        CHECK(s.out.size() == 0);
    }

    TEST_CASE("the envelope: every member checked, the id echoed when it can be read") {
        Session s;
        s.init();
        struct Case {
            std::string line;
            int code;
            std::string field;
            bool has_id;
        };
        const Case cases[] = {
            {"[1]", rpc_code::invalid_request, "", false},  // batch: refused in 2025-11-25
            {"5", rpc_code::invalid_request, "", false},
            {"\"text\"", rpc_code::invalid_request, "", false},
            {"null", rpc_code::invalid_request, "", false},
            {R"({"id":1,"method":"ping"})", rpc_code::invalid_request, "/jsonrpc", true},
            {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", rpc_code::invalid_request, "/jsonrpc", true},
            {R"({"jsonrpc":2.0,"id":1,"method":"ping"})", rpc_code::invalid_request, "/jsonrpc", true},
            {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":1e3,"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":[1],"method":"ping"})", rpc_code::invalid_request, "/id", false},
            {R"({"jsonrpc":"2.0","id":1})", rpc_code::invalid_request, "", true},
            {R"({"jsonrpc":"2.0","id":1,"method":3})", rpc_code::invalid_request, "/method", true},
            {R"({"jsonrpc":"2.0","id":1,"method":""})", rpc_code::invalid_request, "/method", true},
            {R"({"jsonrpc":"2.0","id":1,"method":"ping","extra":1})", rpc_code::invalid_request, "/extra", true},
            {R"({"jsonrpc":"2.0","id":1,"method":"ping","result":{}})", rpc_code::invalid_request, "", true},
            {R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1,2]})", rpc_code::invalid_params, "/params",
             true},
            {R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"})", rpc_code::invalid_params, "/params",
             true},
            {R"({"jsonrpc":"2.0","id":1,"method":"no/such"})", rpc_code::method_not_found, "/method", true},
            {R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})", rpc_code::method_not_found, "/method", true},
            {R"({"jsonrpc":"2.0","result":{},"error":{}})", rpc_code::invalid_request, "", false},
        };
        for (const auto& c : cases) {
            CAPTURE(c.line);
            s.send(c.line);
            auto r = only_line(s.out);
            check_error(r, c.code, c.field);
            CHECK(r.contains("id") == c.has_id);
            if (c.has_id) CHECK(r.at("id") == 1);
        }
    }

    TEST_CASE("ids of every valid type are echoed exactly; notifications and responses get no answer") {
        Session s;
        s.init();
        for (const char* id :
             {"0", "-7", "9223372036854775807", "18446744073709551615", "\"\"", "\"a b\"", "\"\\u00e9\\n\"", "\"1\""}) {
            CAPTURE(id);
            s.send(std::string(R"({"jsonrpc":"2.0","id":)") + id + R"(,"method":"ping"})");
            auto r = only_line(s.out);
            CHECK(json::serialize(r.at("id")) == json::serialize(json::parse(id)));
            CHECK(r.at("result").as_object().empty());
        }
        s.send(R"({"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}})");
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]})");  // bad params: logged only
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":null}})");
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12345}})");
        s.send(R"({"jsonrpc":"2.0","id":99,"result":{}})");  // a response: this server sent no request
        s.send(R"({"jsonrpc":"2.0","id":98,"error":{"code":1,"message":"x"}})");
        CHECK(s.out.size() == 0);
    }

    TEST_CASE("batches: refused from 2025-06-18 on and before initialize; answered as one array in 2025-03-26") {
        {
            Session s;
            s.send(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
            check_error(only_line(s.out), rpc_code::invalid_request, "");
            s.send("[]");
            check_error(only_line(s.out), rpc_code::invalid_request, "");
        }
        Session s;
        s.init("2025-03-26");
        s.send(
            R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},)"
            R"(5,{"jsonrpc":"2.0","id":"t","method":"tools/call","params":{"name":"run_command","arguments":{"command":"hi"}}},)"
            R"({"jsonrpc":"2.0","id":3,"method":"nope"}])");
        REQUIRE(s.out.wait([&] { return s.out.size() >= 1; }));
        auto lines = s.out.messages();
        REQUIRE(lines.size() == 1);
        const auto& batch = lines[0].as_array();
        REQUIRE(batch.size() == 4);  // ping, the element "5", the tool call, nope; the notification has none
        std::map<std::string, json::object> by_id;
        for (const auto& r : batch)
            by_id[r.as_object().contains("id") ? json::serialize(r.at("id")) : "none"] = r.as_object();
        CHECK(by_id.at("1").contains("result"));
        check_error(by_id.at("none"), rpc_code::invalid_request, "/2");
        CHECK(by_id.at("\"t\"").at("result").at("isError") == false);
        check_error(by_id.at("3"), rpc_code::method_not_found, "/method");
        s.out.clear();
        s.send(R"([{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","method":"notifications/b"}])");
        CHECK(s.out.size() == 0);  // only notifications: no array at all
        std::string big = "[";
        for (int i = 0; i < 65; ++i) big += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
        s.send(big + "]");
        check_error(only_line(s.out), rpc_code::invalid_request, "");
    }

    TEST_CASE("tools/list: four tools; every schema uses only keywords the checker enforces") {
        Session s;
        s.init();
        s.send(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
        auto tools = only_line(s.out).at("result").at("tools").as_array();
        REQUIRE(tools.size() == 4);
        std::vector<std::string> names;
        for (const auto& t : tools) {
            names.emplace_back(t.at("name").as_string());
            CHECK(t.at("inputSchema").at("type") == "object");
            CHECK(t.at("inputSchema").at("additionalProperties") == false);
            CHECK(t.at("outputSchema").at("type") == "object");
            CHECK(t.at("annotations").at("title").is_string());
            CHECK(unsupported_keywords(t.at("inputSchema")).empty());
            CHECK(unsupported_keywords(t.at("outputSchema")).empty());
        }
        CHECK(names == std::vector<std::string>{"run_command", "read_file", "write_file", "describe_sandbox"});
        s.send(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"x"}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/cursor");
        s.send(R"({"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"page":1}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/page");
        CHECK(unsupported_keywords(json::parse(R"({"type":"object","oneOf":[]})")) ==
              std::vector<std::string>{"/oneOf"});
    }

    TEST_CASE("older revisions get no outputSchema, title or structuredContent") {
        Session s;
        s.init("2024-11-05");
        s.send(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
        const json::object listed = only_line(s.out);
        for (const auto& t : listed.at("result").at("tools").as_array()) {
            CHECK_FALSE(t.as_object().contains("outputSchema"));
            CHECK_FALSE(t.as_object().contains("title"));
            CHECK_FALSE(t.as_object().contains("annotations"));
        }
        s.call(3, "run_command", R"({"command":"hello"})");
        auto r = s.result(3);
        CHECK_FALSE(r.contains("structuredContent"));
        CHECK(json::parse(r.at("content").at(0).at("text").as_string()).at("stdout") == "hello");
    }

    TEST_CASE("tools/call params: protocol errors name the field") {
        Session s;
        s.init();
        const std::pair<std::string, std::string> cases[] = {
            {R"({"arguments":{}})", "/params/name"},
            {R"({"name":7})", "/params/name"},
            {R"({"name":"rm_rf"})", "/params/name"},
            {R"({"name":"run_command","arguments":[]})", "/params/arguments"},
            {R"({"name":"run_command","arguments":{},"task":{}})", "/params/task"},
            {R"({"name":"run_command","arguments":{},"_meta":3})", "/params/_meta"},
            {R"({"name":"run_command","arguments":{},"_meta":{"progressToken":1.5}})", "/params/_meta/progressToken"},
            {R"({"name":"run_command","arguments":{},"_meta":{"progressToken":null}})", "/params/_meta/progressToken"},
        };
        int id = 10;
        for (const auto& pair : cases) {
            const auto& params = pair.first;
            const auto& field = pair.second;
            CAPTURE(params);
            s.send(R"({"jsonrpc":"2.0","id":)" + std::to_string(++id) + R"(,"method":"tools/call","params":)" + params +
                   "}");
            auto r = s.out.response(std::to_string(id));
            REQUIRE(r);
            check_error(*r, rpc_code::invalid_params, field);
        }
        CHECK(s.tools.started_count() == 0);
    }

    TEST_CASE("tool arguments: strict; an unknown or wrong one is an isError result naming it") {
        Session s;
        s.init();
        const std::tuple<std::string, std::string, std::string> cases[] = {
            {"run_command", R"({"command":"x","colour":"red"})", "/colour"},
            {"run_command", R"({"command":"x","timeout_ms":"10"})", "/timeout_ms"},
            {"run_command", R"({"command":"x","timeout_ms":-1})", "/timeout_ms"},
            {"run_command", R"({"command":"x","timeout_ms":4294967296})", "/timeout_ms"},
            {"run_command", R"({"command":"x","timeout_ms":1.5})", "/timeout_ms"},
            {"run_command", R"({"command":""})", "/command"},
            {"run_command", R"({"argv":[]})", "/argv"},
            {"run_command", R"({"argv":["ls",3]})", "/argv/1"},
            {"run_command", R"({"argv":["ls"],"command":"ls"})", "/command"},
            {"run_command", R"({})", ""},
            {"run_command", R"({"command":"x","network":"maybe"})", "/network"},
            {"run_command", R"({"command":"x","env":{"A=B":"c"}})", "/env/A=B"},
            {"run_command", R"({"command":"x","env":{"a/b~":1}})", "/env/a~1b~0"},
            {"run_command", R"({"command":"x","readwrite_paths":"/tmp"})", "/readwrite_paths"},
            {"read_file", R"({})", "/path"},
            {"read_file", R"({"path":"/x","max_bytes":0})", "/max_bytes"},
            {"read_file", R"({"path":"/x","max_bytes":101})", "/max_bytes"},
            {"write_file", R"({"path":"/x"})", "/content"},
            {"write_file", R"({"path":"/x","content":"!!","encoding":"base64"})", "/content"},
            {"write_file", R"({"path":"/x","content":"0123456789abcdefg"})", "/content"},  // 17 bytes, limit 16
            {"write_file", R"({"path":"/x","content":"eA==","encoding":"hex"})", "/encoding"},
            {"describe_sandbox", R"({"verbose":true})", "/verbose"},
        };
        int id = 100;
        for (const auto& c : cases) {  // (not a structured binding: CAPTURE's lambda captures it)
            const std::string& tool = std::get<0>(c);
            const std::string& arguments = std::get<1>(c);
            const std::string& field = std::get<2>(c);
            CAPTURE(arguments);
            s.call(++id, tool, arguments);
            check_refused(s.result(id), tool, field);
        }
        CHECK(s.tools.started_count() == 0);  // nothing reached the tools
        s.call(++id, "write_file", R"({"path":"/x","content":"AAEC/w==","encoding":"base64"})");
        CHECK(s.result(id).at("isError") == false);
        CHECK(s.tools.written == std::string("\x00\x01\x02\xff", 4));
    }

    TEST_CASE("results fit their output schemas, text or not") {
        Session s;
        s.init();
        s.call(2, "run_command", R"({"command":"bytes"})");
        auto r = s.result(2).at("structuredContent").as_object();
        CHECK(r.at("stdout_encoding") == "base64");
        CHECK(r.at("stdout") == "//4gb2s=");
        CHECK_FALSE(check_schema(json::value(definition("run_command").output_schema), json::value(r)));
        s.call(3, "run_command", R"({"argv":["x"]})");
        auto plain = s.result(3).at("structuredContent").as_object();
        CHECK(plain.at("clamp").at("decisions").at(0).at("reason") == "outside every ceiling root");
        CHECK_FALSE(check_schema(json::value(definition("run_command").output_schema), json::value(plain)));
        s.call(4, "read_file", R"({"path":"/tmp/work/a"})");
        CHECK_FALSE(
            check_schema(json::value(definition("read_file").output_schema), s.result(4).at("structuredContent")));
        s.call(5, "describe_sandbox", "{}");
        CHECK_FALSE(check_schema(json::value(definition("describe_sandbox").output_schema),
                                 s.result(5).at("structuredContent")));
        // The checker itself is not hollow: a wrong result is caught, with its pointer.
        auto wrong = plain;
        wrong["exit_code"] = "zero";
        auto e = check_schema(json::value(definition("run_command").output_schema), json::value(wrong));
        REQUIRE(e);
        CHECK(e->field == "/exit_code");
    }

    TEST_CASE("progress: strictly increasing notifications before the response, only with a token") {
        Session s;
        s.init();
        s.call(2, "run_command", R"({"command":"progress:6"})", R"({"progressToken":"tok"})");
        s.result(2);
        auto lines = s.out.messages();
        std::vector<double> values;
        bool response_seen = false;
        for (const auto& l : lines) {
            const auto& o = l.as_object();
            if (o.contains("method")) {
                CHECK_FALSE(response_seen);  // none after the response
                CHECK(o.at("method") == "notifications/progress");
                CHECK(o.at("params").at("progressToken") == "tok");
                values.push_back(o.at("params").at("progress").to_number<double>());
            } else {
                response_seen = true;
            }
        }
        REQUIRE(values.size() == 6);
        for (std::size_t i = 1; i < values.size(); ++i) CHECK(values[i] > values[i - 1]);
        s.out.clear();
        s.call(3, "run_command", R"({"command":"progress:3"})");
        s.result(3);
        CHECK(s.out.size() == 1);
        s.out.clear();
        s.call(4, "run_command", R"({"command":"progress:2"})", R"({"progressToken":77})");
        s.result(4);
        CHECK(s.out.messages().front().at("params").at("progressToken") == 77);
    }

    TEST_CASE("cancellation reaches the tool, and the cancelled call is never answered") {
        Session s;
        s.init();
        s.call(7, "run_command", R"({"command":"block"})");
        REQUIRE(s.tools.wait_started(1));
        CHECK(s.server.calls_in_flight() == 1);
        s.send(
            R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"7","reason":"wrong type"}})");
        CHECK(s.tools.cancels() == 0);  // the string "7" is not the integer 7
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}})");
        REQUIRE(s.out.wait([&] { return s.server.calls_in_flight() == 0; }, 10000));
        CHECK(s.tools.cancels() == 1);
        CHECK_FALSE(s.out.response("7", 300));
        CHECK(s.out.size() == 0);
        // A late cancellation of a finished call is ignored.
        s.call(8, "run_command", R"({"command":"done"})");
        s.result(8);
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}})");
        CHECK(s.out.size() == 1);
    }

    TEST_CASE("concurrency is bounded: a queue, then busy; a queued call can be cancelled before it runs") {
        Session s(options(1, 1));
        s.init();
        s.call(1, "run_command", R"({"command":"block"})");
        REQUIRE(s.tools.wait_started(1));
        s.call(2, "run_command", R"({"command":"block"})");  // queued
        s.call(3, "run_command", R"({"command":"block"})");  // beyond running + queued
        auto busy = s.out.response("3");
        REQUIRE(busy);
        check_error(*busy, rpc_code::server_busy, "");
        s.call(1, "run_command", R"({"command":"x"})");  // the id of a call in progress
        auto dup = s.out.response("1", 2000);
        REQUIRE(dup);
        check_error(*dup, rpc_code::invalid_request, "/id");
        CHECK(s.tools.started_count() == 1);
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}})");
        s.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
        REQUIRE(s.out.wait([&] { return s.server.calls_in_flight() == 0; }));
        CHECK(s.tools.started_count() == 1);  // call 2 never ran
        s.call(4, "run_command", R"({"command":"after"})");
        CHECK(s.result(4).at("structuredContent").at("stdout") == "after");
    }

    TEST_CASE("shutdown cancels every running call and waits for it") {
        ScriptedTools tools;
        MemoryOutput out;
        MemoryLog log;
        {
            Server server(tools, out, log, options());
            server.handle_line(initialize_line("2025-11-25"));
            for (int id = 2; id < 5; ++id)
                server.handle_line(
                    R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                    R"(,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"block"}}})");
            REQUIRE(tools.wait_started(3));
            server.shutdown();
            CHECK(server.calls_in_flight() == 0);
        }
        CHECK(tools.cancels() == 3);
        CHECK(out.size() == 1);  // the initialize response only
    }

    TEST_CASE("logging/setLevel: checked, then log notifications from that level up") {
        Session s;
        s.init();
        s.send(R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"loud"}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/level");
        s.send(R"({"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{}})");
        check_error(only_line(s.out), rpc_code::invalid_params, "/params/level");
        s.send(R"({"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"info"}})");
        CHECK(only_line(s.out).at("result").as_object().empty());
        s.call(5, "run_command", R"({"command":"x"})");
        s.result(5);
        REQUIRE(s.out.wait([&] { return s.out.size() >= 2; }));
        bool logged = false;
        for (const auto& m : s.out.messages())
            if (m.as_object().contains("method")) {
                CHECK(m.at("method") == "notifications/message");
                CHECK(m.at("params").at("level") == "info");
                logged = true;
            }
        CHECK(logged);
    }

    TEST_CASE("an oversized message is answered, not read") {
        Session s;
        s.init();
        s.server.handle_oversized(9u << 20, 4u << 20);
        auto r = only_line(s.out);
        check_error(r, rpc_code::invalid_request, "");
        CHECK_FALSE(r.contains("id"));
    }

    TEST_CASE("random bytes and mutated messages: at most one answer per line, always JSON-RPC") {
        Session s;
        s.init();
        std::mt19937 rng(20251125);
        const std::string seeds[] = {
            R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
            R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/a"}}})",
            R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}})",
            R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}})",
        };
        for (int i = 0; i < 3000; ++i) {
            std::string line = seeds[rng() % 4];
            for (int k = rng() % 4; k >= 0; --k) {
                std::size_t at = rng() % line.size();
                switch (rng() % 3) {
                    case 0:
                        line[at] = static_cast<char>(rng() % 256);
                        break;
                    case 1:
                        line.erase(at, 1 + rng() % 3);
                        break;
                    default:
                        line.insert(at, 1, "{}[]\",:0\\"[rng() % 9]);
                }
                if (line.empty()) line = "x";
            }
            s.out.clear();
            s.send(line);
            s.server.drain();
            auto lines = s.out.raw();
            CHECK(lines.size() <= 1);
            for (const auto& l : lines) {
                auto v = json::parse(l);
                CHECK(v.at("jsonrpc") == "2.0");
                CHECK((v.as_object().contains("result") || v.as_object().contains("error")));
            }
        }
    }
}
