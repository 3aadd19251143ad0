// SPDX-License-Identifier: MIT
// The host side of the plugin ABI against real modules (tests/fake_backend): loading, refusals,
// capabilities cross-check, the request/result round trip, and the module's export list.
#include "cordon/backend_host.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "support/run_command.hpp"

using namespace cordon;
namespace fs = std::filesystem;
using cordon::test::required_env;

namespace {

struct PluginDir {
    fs::path dir;
    explicit PluginDir(const std::string& module_env) {
        dir = fs::temp_directory_path() / ("cordon-plugins-" + std::to_string(::getpid()) + "-" + module_env);
        fs::remove_all(dir);
        fs::create_directories(dir);
        ::chmod(dir.c_str(), 0755);
        fs::copy_file(required_env(module_env.c_str()), dir / "cordon-backend-bubblewrap.so");
        ::chmod((dir / "cordon-backend-bubblewrap.so").c_str(), 0755);
    }
    ~PluginDir() { fs::remove_all(dir); }
};

}  // namespace

TEST_SUITE("backend_host") {
    TEST_CASE("a good module loads, reports the core's capabilities and runs a request") {
        PluginDir plugins("FAKE_BACKEND_GOOD");
        BackendRegistry registry;
        auto backend = registry.load(Backend::bubblewrap, plugins.dir);
        REQUIRE_MESSAGE(backend.has_value(), backend.error().to_string());
        CHECK(backend->name() == "bubblewrap");
        auto caps = backend->capabilities("0.9.0");
        REQUIRE(caps.has_value());
        CHECK(caps->read_allowlist);
        CHECK_FALSE(caps->host_filtering);
        auto unknown = backend->capabilities("0.1.0");
        REQUIRE_FALSE(unknown.has_value());
        CHECK(unknown.error().code == ErrorCode::backend_unsupported);

        detail::RunRequest request;
        request.config_json = R"({"version":"0.6.0-alpha"})";
        request.executor_path = "/opt/lxc-exec";
        auto result = backend->run(request);
        REQUIRE_MESSAGE(result.has_value(), result.error().to_string());
        CHECK(result->exit_code == 3);
        CHECK(result->out == request.config_json);
        CHECK(result->err == "/opt/lxc-exec");
        CHECK(result->invocation.size() == 3);
    }

    TEST_CASE("an exception inside the module becomes an error result, not a crash") {
        PluginDir plugins("FAKE_BACKEND_GOOD");
        auto backend = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE(backend.has_value());
        detail::RunRequest request;
        request.config_json = R"({"throw":1})";
        auto result = backend->run(request);
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error().code == ErrorCode::internal);
        CHECK(result.error().message.find("asked to throw") != std::string::npos);
    }

    TEST_CASE("wrong ABI version and wrong name are refused") {
        PluginDir abi("FAKE_BACKEND_WRONG_ABI");
        auto r = BackendRegistry().load(Backend::bubblewrap, abi.dir);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::unavailable);
        CHECK(r.error().message.find("ABI version 99") != std::string::npos);
        PluginDir name("FAKE_BACKEND_WRONG_NAME");
        r = BackendRegistry().load(Backend::bubblewrap, name.dir);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find("expected 'bubblewrap'") != std::string::npos);
    }

    TEST_CASE("modules in places other users can write are refused") {
        PluginDir plugins("FAKE_BACKEND_GOOD");
        ::chmod(plugins.dir.c_str(), 0777);
        auto r = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find("directory is writable by other users") != std::string::npos);
        ::chmod(plugins.dir.c_str(), 0755);
        ::chmod((plugins.dir / "cordon-backend-bubblewrap.so").c_str(), 0775);
        r = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find("module is writable by other users") != std::string::npos);
    }

    TEST_CASE("a missing module or backend is unavailable") {
        auto r = BackendRegistry().load(Backend::seatbelt, fs::temp_directory_path() / "cordon-no-such-dir");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::unavailable);
        r = BackendRegistry().load(Backend::session, "/");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::unavailable);
    }

    TEST_CASE("statically registered tables win over modules and are checked the same way") {
        static const cordon_backend_v1 bad{sizeof(cordon_backend_v1), 2, "seatbelt", nullptr, nullptr, nullptr, nullptr};
        BackendRegistry registry;
        CHECK_FALSE(registry.add(&bad).has_value());
        CHECK_FALSE(registry.add(nullptr).has_value());
    }

    TEST_CASE("a module exports exactly one symbol") {
        auto r = cordon::test::run_command({"nm", "-D", "--defined-only", required_env("FAKE_BACKEND_GOOD")});
        REQUIRE(r.exit_code == 0);
        int exported = 0;
        std::size_t pos = 0;
        while ((pos = r.out.find(" T ", pos)) != std::string::npos) { ++exported; ++pos; }
        CHECK(exported == 1);
        CHECK(r.out.find("cordon_backend_entry_v1") != std::string::npos);
    }
}

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cordon/detail/run_wire.hpp"

TEST_SUITE("backend result wire") {
    TEST_CASE("output round-trips byte for byte; another encoder's key order decodes the same; bad ones are errors") {
        cordon::RunResult r;
        r.exit_code = 3;
        r.out = std::string("bin\0ary\xff\x80", 9) + std::string(100000, 'x');
        r.err = "warn\n";
        r.out_dropped = 7;
        r.failure_message = "m";
        r.invocation = {"lxc-exec", "--config", "/dev/fd/5"};
        const std::string text = cordon::detail::encode_result({}, r);
        auto back = cordon::detail::decode_result(text);
        REQUIRE(back.has_value());
        CHECK(back->out == r.out);
        CHECK(back->err == r.err);
        CHECK(back->exit_code == 3);
        CHECK(back->out_dropped == 7);
        CHECK(back->invocation == r.invocation);
        // The same object serialized by Boost.JSON (keys in another order): the general path.
        auto v = boost::json::parse(text);
        boost::json::object reordered;
        for (auto it = v.as_object().end(); it != v.as_object().begin();) {
            --it;
            reordered[it->key()] = it->value();
        }
        auto other = cordon::detail::decode_result(boost::json::serialize(reordered));
        REQUIRE(other.has_value());
        CHECK(other->out == r.out);
        CHECK(other->err == r.err);
        // Not base64, or a second stdout field: a malformed result, never a success.
        std::string bad = text;
        bad[20] = '*';
        CHECK_FALSE(cordon::detail::decode_result(bad).has_value());
        std::string twice = text;
        twice.insert(twice.size() - 1, ",\"stdout_b64\":\"\"");
        CHECK_FALSE(cordon::detail::decode_result(twice).has_value());
        // An empty result object (no fields besides the outputs) still encodes to valid JSON.
        CHECK(cordon::detail::encoded_result_size("{}", r) ==
              cordon::detail::encoded_result_size("{\"a\":1}", r) - 6);
    }
    TEST_CASE("prepare (ABI 1.1): the module adjusts the typed policy, and the host keeps its own run controls") {
        PluginDir plugins("FAKE_BACKEND_GOOD");
        auto backend = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE(backend.has_value());
        Policy p;
        p.process.command_line = "x";
        p.run_as = RunAs{4242, 4243};
        p.limits.processes = 64;
        p.allowed_domains = {"pkg.test"};
        auto prepared = backend->prepare(p, contract_1_0_0);
        REQUIRE_MESSAGE(prepared.has_value(), prepared.error().to_string());
        CHECK(prepared->process.cwd == std::optional<std::string>("/prepared"));
        CHECK(prepared->process.command_line == "x");
        CHECK(prepared->run_as == p.run_as);
        CHECK(prepared->limits.processes == std::optional<std::uint64_t>(64));
        CHECK(prepared->allowed_domains == p.allowed_domains);
        p.process.cwd = "/mine";
        CHECK(backend->prepare(p, contract_1_0_0)->process.cwd == std::optional<std::string>("/mine"));
    }

    TEST_CASE("prepare's refusal keeps its code and pointer; a throw and a reply that is no config are errors") {
        PluginDir plugins("FAKE_BACKEND_GOOD");
        auto backend = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE(backend.has_value());
        Policy p;
        p.process.command_line = "refuse-prepare";
        auto refused = backend->prepare(p, contract_1_0_0);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().code == ErrorCode::invalid_policy);
        CHECK(refused.error().where == "/process/commandLine");
        CHECK(refused.error().message == "asked to refuse");
        p.process.command_line = "throw-prepare";
        auto thrown = backend->prepare(p, contract_1_0_0);
        REQUIRE_FALSE(thrown.has_value());
        CHECK(thrown.error().code == ErrorCode::internal);
        CHECK(thrown.error().message.find("asked to throw in prepare") != std::string::npos);
        p.process.command_line = "garbage-prepare";  // answers with a 0.6.0-alpha document for a 1.0.0 config
        auto garbage = backend->prepare(p, contract_1_0_0);
        REQUIRE_FALSE(garbage.has_value());
        CHECK(garbage.error().code == ErrorCode::internal);
        CHECK(garbage.error().message.find("prepared an unusable config") != std::string::npos);
    }

    TEST_CASE("an ABI 1.0 table (no prepare) loads, and its policies pass unchanged") {
        PluginDir plugins("FAKE_BACKEND_ABI_1_0");
        auto backend = BackendRegistry().load(Backend::bubblewrap, plugins.dir);
        REQUIRE_MESSAGE(backend.has_value(), backend.error().to_string());
        Policy p;
        p.process.command_line = "refuse-prepare";  // the module's prepare would refuse it: it is never called
        auto same = backend->prepare(p, contract_1_0_0);
        REQUIRE_MESSAGE(same.has_value(), same.error().to_string());
        CHECK(*same == p);
    }
}
