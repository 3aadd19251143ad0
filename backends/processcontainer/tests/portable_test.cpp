// SPDX-License-Identifier: MIT
// processcontainer backend, portable parts: Windows command-line rendering, config preparation and
// failure classification. Runs natively on Linux and, cross-built, under wine.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "cordon/windows_command_line.hpp"
#include "executor_output.hpp"
#include "prepare.hpp"
#include "hostile_args.hpp"

using namespace cordon;

TEST_CASE("MSVCRT quoting: exact renderings of the tricky cases") {
    CHECK(windows_quote_argument("plain") == "plain");
    CHECK(windows_quote_argument("") == "\"\"");
    CHECK(windows_quote_argument("a b") == "\"a b\"");
    CHECK(windows_quote_argument("a\"b") == "\"a\\\"b\"");
    CHECK(windows_quote_argument("a\\\"b") == "\"a\\\\\\\"b\"");              // a\"b -> "a\\\"b"
    CHECK(windows_quote_argument("C:\\dir with space\\") == "\"C:\\dir with space\\\\\"");  // trailing \ doubled
    CHECK(windows_quote_argument("C:\\no\\space\\") == "C:\\no\\space\\");    // unquoted: backslashes literal
    CHECK(windows_quote_argument("a&b|c<d>e^f%g%") == "a&b|c<d>e^f%g%");      // nothing interprets these
}

TEST_CASE("MSVCRT quoting round-trips every hostile argument through the reference parser") {
    std::vector<std::string> argv{"C:\\Program Files\\tool dir\\tool.exe"};
    for (const auto& a : cordon::test::hostile_args) argv.push_back(a);
    auto line = windows_command_line(argv);
    REQUIRE(line);
    CHECK(windows_parse_command_line(*line) == argv);
    for (const auto& a : cordon::test::hostile_args) {
        auto one = windows_command_line({"prog.exe", a});
        REQUIRE(one);
        CHECK(windows_parse_command_line(*one) == std::vector<std::string>{"prog.exe", a});
    }
}

TEST_CASE("windows_command_line refuses what no command line can carry") {
    auto where = [](const Result<std::string>& r) { return r ? std::string("ok") : r.error().where; };
    CHECK(where(windows_command_line({})) == "argv");
    CHECK(where(windows_command_line({""})) == "argv[0]");
    CHECK(where(windows_command_line({"pro\"g"})) == "argv[0]");
    CHECK(where(windows_command_line({"prog", std::string("a\0b", 3)})) == "argv[1]");
    CHECK(where(windows_command_line({"prog", "ok", "\xC3\x28"})) == "argv[2]");  // invalid UTF-8
    CHECK(windows_command_line({"prog", "line\nbreak"}));                        // fine without cmd
}

TEST_CASE("the 32,767-character limit is enforced in UTF-16 units, which wine does not do") {
    // "p" + space + N chars: total = 2 + N... argv[0] is quoted: "\"p\" " is 4 units.
    std::string fill(windows_command_line_max - 4, 'x');
    auto at_limit = windows_command_line({"p", fill});
    REQUIRE(at_limit);
    CHECK(at_limit->size() == windows_command_line_max);
    auto over = windows_command_line({"p", fill + "x"});
    REQUIRE_FALSE(over);
    CHECK(over.error().code == ErrorCode::invalid_policy);
    CHECK(over.error().message.find("32766") != std::string::npos);
    // U+1F600 is 4 UTF-8 bytes but 2 UTF-16 units: counted as 2.
    std::string emoji;
    for (std::size_t i = 0; i < (windows_command_line_max - 4) / 2; ++i) emoji += "\xF0\x9F\x98\x80";
    CHECK(windows_command_line({"p", emoji}));
    CHECK_FALSE(windows_command_line({"p", emoji + "\xF0\x9F\x98\x80"}));
}

TEST_CASE("cmd /c rendering escapes every cmd metacharacter and keeps builtins unquoted") {
    auto line = windows_cmd_command_line({"echo", "a&b", "x|y", "(z)", "<in>", "^", "!v!", "\"q\""});
    REQUIRE(line);
    CHECK(*line == "cmd.exe /d /v:off /c echo a^&b x^|y ^(z^) ^<in^> ^^ ^!v^! ^\"\\^\"q\\^\"^\"");
    // Every metacharacter after /c is preceded by a caret (so cmd treats none of them specially).
    std::string tail = line->substr(std::string("cmd.exe /d /v:off /c ").size());
    for (std::size_t i = 0; i < tail.size(); ++i) {
        if (std::string("()!\"<>&|").find(tail[i]) == std::string::npos) continue;
        REQUIRE(i > 0);
        CHECK(tail[i - 1] == '^');
    }
    // Removing the carets gives back an MSVCRT line that parses to the argv.
    std::vector<std::string> argv{"C:\\dir with space\\p.exe"};
    for (const auto& a : cordon::test::hostile_args)
        if (a.find_first_of("\r\n%") == std::string::npos) argv.push_back(a);
    auto hostile = windows_cmd_command_line(argv);
    REQUIRE(hostile);
    std::string unescaped;
    std::string body = hostile->substr(std::string("cmd.exe /d /v:off /c ").size());
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '^' && i + 1 < body.size()) ++i;
        unescaped += body[i];
    }
    CHECK(windows_parse_command_line(unescaped) == argv);
}

TEST_CASE("cmd /c rendering refuses line breaks, '%' and lines over cmd's 8,191 characters") {
    auto broken = windows_cmd_command_line({"echo", "a\nb"});
    REQUIRE_FALSE(broken);
    CHECK(broken.error().where == "argv[1]");
    auto percent = windows_cmd_command_line({"echo", "ok", "100%"});
    REQUIRE_FALSE(percent);
    CHECK(percent.error().where == "argv[2]");
    CHECK(windows_command_line({"prog", "100%"}));  // without cmd nothing expands it
    CHECK_FALSE(windows_cmd_command_line({"echo", std::string(8200, 'x')}));
    CHECK(windows_cmd_command_line({"echo", std::string(8000, 'x')}));
}

namespace {

std::string config(const std::string& body) { return "{\"version\":\"0.6.0-alpha\"," + body + "}"; }

boost::json::object parsed(const std::string& text) { return boost::json::parse(text).as_object(); }

}  // namespace

TEST_CASE("prepare_config defaults process.cwd to the first existing granted directory") {
    std::set<std::string> dirs{"C:\\work\\rw2", "C:\\work\\ro"};
    auto probe = [&](const std::string& p) { return dirs.count(p) > 0; };
    auto text = config(R"("containment":"processcontainer","process":{"commandLine":"cmd.exe /c dir"},)"
                       R"("filesystem":{"readwritePaths":["C:\\work\\file.txt","C:\\work\\rw2"],"readonlyPaths":["C:\\work\\ro"]})");
    auto prepared = processcontainer::prepare_config(text, probe);
    REQUIRE(prepared);
    CHECK(prepared->defaulted_cwd == std::optional<std::string>("C:\\work\\rw2"));
    CHECK(parsed(prepared->json).at("process").at("cwd").as_string() == "C:\\work\\rw2");

    SUBCASE("read-only grants when no read-write directory exists") {
        dirs.erase("C:\\work\\rw2");
        auto p = processcontainer::prepare_config(text, probe);
        REQUIRE(p);
        CHECK(p->defaulted_cwd == std::optional<std::string>("C:\\work\\ro"));
    }
    SUBCASE("no granted directory: cwd stays absent") {
        dirs.clear();
        auto p = processcontainer::prepare_config(text, probe);
        REQUIRE(p);
        CHECK_FALSE(p->defaulted_cwd);
        CHECK_FALSE(parsed(p->json).at("process").as_object().contains("cwd"));
    }
    SUBCASE("a cwd the caller gave is kept") {
        auto given = config(R"("process":{"commandLine":"x","cwd":"D:\\mine"},"filesystem":{"readwritePaths":["C:\\work\\rw2"]})");
        auto p = processcontainer::prepare_config(given, probe);
        REQUIRE(p);
        CHECK_FALSE(p->defaulted_cwd);
        CHECK(parsed(p->json).at("process").at("cwd").as_string() == "D:\\mine");
    }
}

TEST_CASE("prepare_config adds the variables wxc-exec requires to an explicit environment, and only those") {
    auto never = [](const std::string&) { return false; };
    processcontainer::RequiredEnvironment host{"C:\\Windows", "C:\\Users\\u\\AppData\\Local"};
    auto v100 = [](const std::string& process) { return "{\"version\":\"1.0.0\",\"process\":" + process + "}"; };
    auto p = processcontainer::prepare_config(v100(R"({"commandLine":"x","env":["A=1"]})"), never, host);
    REQUIRE(p);
    auto env = parsed(p->json).at("process").at("env").as_array();
    REQUIRE(env.size() == 3);
    CHECK(env[0] == "A=1");
    CHECK(env[1] == "SYSTEMROOT=C:\\Windows");
    CHECK(env[2] == "LOCALAPPDATA=C:\\Users\\u\\AppData\\Local");
    CHECK(p->added_env == std::vector<std::string>{"SYSTEMROOT", "LOCALAPPDATA"});
    // a variable already given (in any case) is left as given
    p = processcontainer::prepare_config(v100(R"({"commandLine":"x","env":["SystemRoot=D:\\W","localappdata=E:\\L"]})"),
                                         never, host);
    REQUIRE(p);
    CHECK(parsed(p->json).at("process").at("env").as_array().size() == 2);
    CHECK(p->added_env.empty());
    // the default environment (inheritDefaultEnv) and an absent env (legacy contracts) need nothing
    p = processcontainer::prepare_config(v100(R"({"commandLine":"x","env":[],"inheritDefaultEnv":true})"), never, host);
    REQUIRE(p);
    CHECK(parsed(p->json).at("process").at("env").as_array().empty());
    p = processcontainer::prepare_config(config(R"("process":{"commandLine":"x"})"), never, host);
    REQUIRE(p);
    CHECK_FALSE(parsed(p->json).at("process").as_object().contains("env"));
}

TEST_CASE("prepare_config refuses other backends, invalid configs and over-long command lines") {
    auto never = [](const std::string&) { return false; };
    auto other = processcontainer::prepare_config(config(R"("containment":"bubblewrap","process":{"commandLine":"x"})"), never);
    REQUIRE_FALSE(other);
    CHECK(other.error().where == "/containment");
    auto invalid = processcontainer::prepare_config(config(R"("process":{"commandLine":"x","args":[]})"), never);
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error().code == ErrorCode::invalid_policy);
    auto longest = processcontainer::prepare_config(
        config(R"("process":{"commandLine":")" + std::string(windows_command_line_max, 'x') + "\"}"), never);
    CHECK(longest);
    auto too_long = processcontainer::prepare_config(
        config(R"("process":{"commandLine":")" + std::string(windows_command_line_max + 1, 'x') + "\"}"), never);
    REQUIRE_FALSE(too_long);
    CHECK(too_long.error().where == "/process/commandLine");
    CHECK(processcontainer::prepare_config(config(R"("containment":"appcontainer","process":{"commandLine":"x"})"), never));
}

TEST_CASE("executor_arguments: --config FILE or --config-base64, nothing else") {
    CHECK(processcontainer::executor_arguments("C:\\mxc\\wxc-exec.exe", ConfigDelivery::file, "C:\\t\\config.json") ==
          std::vector<std::string>{"C:\\mxc\\wxc-exec.exe", "--config", "C:\\t\\config.json"});
    CHECK(processcontainer::executor_arguments("C:\\mxc\\wxc-exec.exe", ConfigDelivery::base64, "e30=") ==
          std::vector<std::string>{"C:\\mxc\\wxc-exec.exe", "--config-base64", "e30="});
}

namespace {

RunResult classified(int exit_code, std::string err, bool timed_out = false) {
    RunResult r;
    r.exit_code = exit_code;
    r.err = std::move(err);
    r.timed_out = timed_out;
    processcontainer::classify_executor_output(r);
    return r;
}

}  // namespace

TEST_CASE("wxc-exec failures are told apart from the contained command's exit code") {
    SUBCASE("Request error, 0.7.0 and 0.9.0 wording, also after a DACL recovery line") {
        auto r7 = classified(1, "Request error\nUnknown top-level field(s) in config: keychainAccess. Remove them.\n");
        CHECK(r7.failure == ExecutorFailure::config_rejected);
        CHECK(r7.failure_message == "Unknown top-level field(s) in config: keychainAccess. Remove them.");
        auto r9 = classified(1, "DACL recovery: 1 file(s), 2 ACE(s) restored, 0 error(s)\r\nRequest error\r\n"
                                "Configuration parse error: Invalid configuration at `keychainAccess`: unknown field\r\n");
        CHECK(r9.failure == ExecutorFailure::config_rejected);
        CHECK(r9.failure_message.find("keychainAccess") != std::string::npos);
    }
    SUBCASE("the JSON error object appended without a newline, last one wins") {
        auto r = classified(255, "noise {\"error\":{\"code\":\"x\",\"message\":\"first\"}}\n"
                                 "Initialization error: CreateAppContainerProfile failed: Not implemented. (0x80004001)"
                                 "{\"error\":{\"code\":\"backend_error\",\"message\":\"Initialization error: "
                                 "CreateAppContainerProfile failed: Not implemented. (0x80004001)\"}}\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message == "Initialization error: CreateAppContainerProfile failed: Not implemented. (0x80004001)");
    }
    SUBCASE("on Windows the failure code is -1 (0xFFFFFFFF), measured with the real wxc-exec under wine") {
        auto r = classified(-1, "Initialization error: CreateAppContainerProfile failed: Not implemented. (0x80004001)"
                                "{\"error\":{\"code\":\"backend_error\",\"message\":\"Initialization error: "
                                "CreateAppContainerProfile failed: Not implemented. (0x80004001)\"}}\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message == "Initialization error: CreateAppContainerProfile failed: Not implemented. (0x80004001)");
    }
    SUBCASE("started: the container set-up fails before any launch; other failures may come after") {
        auto init = classified(-1, "{\"error\":{\"code\":\"backend_error\",\"message\":\"Initialization error: x\"}}\n");
        CHECK(init.started == CommandStarted::no);
        CHECK(classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"lost\"}}").started ==
              CommandStarted::maybe);
        CHECK(classified(1, "Request error\nbad\n").started == CommandStarted::no);
        CHECK(classified(7, "").started == CommandStarted::yes);
    }
    SUBCASE("1.0.1: exit 1 with only a policy_validation object is the executor's refusal, not the command's status") {
        auto r = classified(1, "{\"error\":{\"code\":\"policy_validation\",\"message\":\"The supplied `process.env` "
                               "cannot launch a Windows process container\"}}\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message.find("process.env") != std::string::npos);
        CHECK(r.started == CommandStarted::no);
        CHECK(classified(1, "plain output of a failing command\n").failure == ExecutorFailure::none);
    }
    SUBCASE("exit 255 without an object: the last line (0.7.0)") {
        auto r = classified(255, "something\nscript timed out after 1000ms\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
        CHECK(r.failure_message == "script timed out after 1000ms");
        CHECK(r.timed_out);  // the executor's own timeout: the backend, not the core, reads its wording
        CHECK_FALSE(classified(255, "something\nInitialization error: no job\n").timed_out);
    }
    SUBCASE("unavailable backend and the dry run's host probe") {
        CHECK(classified(1, "error: the 'processcontainer' backend is not available on Linux\n").failure ==
              ExecutorFailure::backend_unavailable);
        CHECK(classified(1, "Error: Bubblewrap backend not available on Windows\n").failure ==  // wxc-exec 0.7.0
              ExecutorFailure::backend_unavailable);
        CHECK(classified(1, "error: Bubblewrap backend not available on Windows\n").failure ==  // wxc-exec 0.9.0
              ExecutorFailure::backend_unavailable);
        CHECK(classified(1, "error: BaseContainer is unavailable; DACL fallback requires write-DAC permission on "
                            "'C:\\Users\\me\\Documents', which the current user lacks\n")
                  .failure == ExecutorFailure::launch_failed);
    }
    SUBCASE("imitations with the command's own exit code stay the command's") {
        CHECK(classified(0, "Request error\nfake\n").failure == ExecutorFailure::none);
        CHECK(classified(7, "{\"error\":{\"code\":\"backend_error\",\"message\":\"fake\"}}").failure ==
              ExecutorFailure::none);
        CHECK(classified(1, "error: something of the command\n").failure == ExecutorFailure::none);
        auto own = classified(3, "whatever");
        CHECK(own.failure == ExecutorFailure::none);
        CHECK(own.exit_code == 3);
    }
    SUBCASE("a run cordon's timer killed is left alone") {
        CHECK(classified(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"x\"}}", true).failure ==
              ExecutorFailure::none);
    }
    SUBCASE("clap usage errors are the executor's") {
        auto r = classified(2, "error: unexpected argument '--stdin' found\n\nUsage: wxc-exec.exe [OPTIONS]\n");
        CHECK(r.failure == ExecutorFailure::backend_error);
    }
}
