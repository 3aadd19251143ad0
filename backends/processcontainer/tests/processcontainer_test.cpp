// SPDX-License-Identifier: MIT
// processcontainer backend under wine: the real runner (CreateProcessW, Job Object, pipes, private
// config file) against fake-wxc-exec.exe, quoting against real child processes, and the module as
// the host loads it. Every config the backend hands the fake is also written to emitted-configs/,
// which wxc_conformance.sh runs through the real wxc-exec.exe of SDK 0.7.0 and 0.9.0.
#include <doctest/doctest.h>

#include <windows.h>
#include <sddl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/backend_host.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/base64.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/verified_executor.hpp"
#include "cordon/windows_command_line.hpp"
#include "hostile_args.hpp"
#include "job_runner.hpp"
#include "private_config.hpp"
#include "processcontainer.hpp"
#include "win32_util.hpp"

namespace fs = std::filesystem;
using namespace cordon;
using cordon::processcontainer::win::narrow;
using cordon::processcontainer::win::widen;

namespace {

std::string here() {
    wchar_t self[4096];
    DWORD n = ::GetModuleFileNameW(nullptr, self, 4096);
    std::wstring path(self, n);
    return narrow(path.substr(0, path.find_last_of(L'\\')));
}

std::string fake_executor() { return here() + "\\fake-wxc-exec.exe"; }
std::string argv_echo() { return here() + "\\argv-echo.exe"; }

/// A directory under the build tree (it outlives the test, so the conformance run finds the
/// granted paths on the host, as wxc-exec's dry run checks them).
std::string area(const std::string& name) {
    std::string dir = here() + "\\test-area\\" + name;
    fs::create_directories(fs::path(*widen(dir)));
    return dir;
}

std::string record_file(const std::string& name) {
    std::string dir = here() + "\\records";
    fs::create_directories(fs::path(*widen(dir)));
    std::string file = dir + "\\" + name + ".json";
    ::DeleteFileW(widen(file)->c_str());
    return file;
}

bool exists(const std::string& path) { return ::GetFileAttributesW(widen(path)->c_str()) != INVALID_FILE_ATTRIBUTES; }

std::string slurp(const std::string& path) {
    std::ifstream in(fs::path(*widen(path)), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const std::string& path, const std::string& text) {
    std::ofstream out(fs::path(*widen(path)), std::ios::binary);
    out << text;
}

/// The fake's record of a run; its config is kept in emitted-configs/ for the conformance run.
boost::json::object record_of(const std::string& name, const std::string& file) {
    REQUIRE(exists(file));
    auto record = boost::json::parse(slurp(file)).as_object();
    std::string dir = here() + "\\emitted-configs";
    fs::create_directories(fs::path(*widen(dir)));
    spit(dir + "\\" + name + ".json", std::string(record.at("config_text").as_string()));
    return record;
}

std::vector<std::string> strings(const boost::json::value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
    return out;
}

Policy script_policy(std::vector<std::string> script, const std::string& grant) {
    Policy p;
    p.containment = Containment::processcontainer;
    script.insert(script.begin(), "fake-command.exe");
    p.process.command_line = windows_command_line(script).value();
    if (!grant.empty()) p.filesystem.readwrite = {grant};
    return p;
}

// The config the host hands the module: the policy as the module's own prepare() leaves it (a
// defaulted cwd, the variables wxc-exec requires), emitted at `contract`.
Result<Policy> prepare(const Policy& p, const Contract& contract) {
    return LoadedBackend(cordon_backend_processcontainer_v1(), nullptr).prepare(p, contract);
}

std::string prepared_config(const Policy& p, const Contract& contract) {
    auto prepared = prepare(p, contract);
    REQUIRE_MESSAGE(prepared.has_value(), (prepared ? std::string() : prepared.error().to_string()));
    return to_mxc_json(*prepared, contract).value();
}

detail::RunRequest request_for(const Policy& p, std::uint32_t timeout_ms = 20000) {
    detail::RunRequest r;
    r.config_json = prepared_config(p, emit_contract(p));  // 1.0.0, for SDK 1.0.1
    r.executor_path = fake_executor();
    r.sdk_version = std::string(default_sdk_version);
    r.timeout_ms = timeout_ms;
    r.options.grace_ms = 1000;
    return r;
}

Result<RunResult> run(const detail::RunRequest& r) {
    return LoadedBackend(cordon_backend_processcontainer_v1(), nullptr).run(r);
}

std::uint64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count());
}

bool process_alive(DWORD pid) {
    HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (!h) return false;
    bool alive = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    ::CloseHandle(h);
    return alive;
}

std::string current_user_sid() {  // read independently of private_config.cpp
    HANDLE token = nullptr;
    REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    DWORD size = 0;
    ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    REQUIRE(::GetTokenInformation(token, TokenUser, buffer.data(), size, &size));
    ::CloseHandle(token);
    wchar_t* sid = nullptr;
    REQUIRE(::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid));
    std::string text = narrow(sid);
    ::LocalFree(sid);
    return text;
}

}  // namespace

TEST_CASE("config delivered as a private file that exists while wxc-exec runs and is removed afterwards") {
    const std::string grant = area("file-delivery");
    const std::string rec = record_file("file-delivery");
    auto result = run(request_for(script_policy({"--record", rec, "--stdout", "hello"}, grant)));
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    CHECK(result->failure == ExecutorFailure::none);
    CHECK(result->out == "hello");
    auto record = record_of("file-delivery", rec);

    auto argv = strings(record.at("argv"));
    REQUIRE(argv.size() == 3);
    CHECK(argv[0] == fake_executor());
    CHECK(argv[1] == "--config");
    CHECK(result->invocation == argv);
    CHECK(record.at("config_existed").as_bool());
    CHECK(validate(record.at("config_text").as_string()).empty());
    const std::string path = argv[2];
    const std::string dir = path.substr(0, path.find_last_of('\\'));
    CHECK(dir.find("\\cordon-") != std::string::npos);
    CHECK_FALSE(exists(path));
    CHECK_FALSE(exists(dir));

    SUBCASE("the directory is created with a protected DACL granting only the current user") {
        // What CreateDirectoryW/CreateFileW receive. wine does not keep a descriptor given at creation
        // (it reports one synthesised from the Unix mode), so the on-disk DACL is checked on Windows only.
        auto sddl = processcontainer::win::private_dacl_sddl();
        REQUIRE(sddl);
        PSECURITY_DESCRIPTOR sd = nullptr;
        REQUIRE(::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl->c_str(), SDDL_REVISION_1, &sd, nullptr));
        SECURITY_DESCRIPTOR_CONTROL control = 0;
        DWORD revision = 0;
        REQUIRE(::GetSecurityDescriptorControl(sd, &control, &revision));
        CHECK((control & SE_DACL_PROTECTED) != 0);
        BOOL present = FALSE, defaulted = FALSE;
        PACL dacl = nullptr;
        REQUIRE(::GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
        REQUIRE(present);
        REQUIRE(dacl);
        REQUIRE(dacl->AceCount == 1);
        void* ace = nullptr;
        REQUIRE(::GetAce(dacl, 0, &ace));
        auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
        CHECK(allowed->Header.AceType == ACCESS_ALLOWED_ACE_TYPE);
        CHECK(allowed->Header.AceFlags == (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE));
        CHECK(allowed->Mask == FILE_ALL_ACCESS);
        wchar_t* sid = nullptr;
        REQUIRE(::ConvertSidToStringSidW(reinterpret_cast<PSID>(&allowed->SidStart), &sid));
        CHECK(narrow(sid) == current_user_sid());
        ::LocalFree(sid);
        ::LocalFree(sd);
        CHECK(current_user_sid().rfind("S-1-5-21-", 0) == 0);
    }
    SUBCASE("the executor runs in the job, with stdin at EOF (no stdin delivery)") {
        CHECK(record.at("in_job").as_bool());
        CHECK(record.at("stdin_eof").as_bool());
    }
}

TEST_CASE("config delivered as --config-base64 when asked, with no file") {
    const std::string rec = record_file("base64-delivery");
    auto request = request_for(script_policy({"--record", rec}, area("base64-delivery")));
    request.options.delivery = ConfigDelivery::base64;
    auto result = run(request);
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    auto record = record_of("base64-delivery", rec);
    auto argv = strings(record.at("argv"));
    REQUIRE(argv.size() == 3);
    CHECK(argv[1] == "--config-base64");
    CHECK(detail::base64_decode(argv[2]) == std::optional<std::string>(std::string(record.at("config_text").as_string())));
    CHECK(record.at("delivery").as_string() == "base64");
}

TEST_CASE("wxc-exec inherits the system's environment variables, not the caller's secrets") {
    ::SetEnvironmentVariableW(L"CORDON_TEST_SECRET", L"sk-do-not-leak");
    const std::string rec = record_file("environment");
    auto result = run(request_for(script_policy({"--record", rec}, area("environment"))));
    ::SetEnvironmentVariableW(L"CORDON_TEST_SECRET", nullptr);
    REQUIRE(result);
    auto names = strings(record_of("environment", rec).at("env"));
    bool secret = false, system_root = false;
    for (auto n : names) {
        for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        secret |= n == "CORDON_TEST_SECRET";
        system_root |= n == "SYSTEMROOT";
    }
    CHECK_FALSE(secret);
    CHECK(system_root);
}

TEST_CASE("the contained command's exit code and output versus wxc-exec's own failures") {
    const std::string grant = area("exit-codes");
    SUBCASE("the command's exit code and stderr pass through") {
        auto result = run(request_for(script_policy({"--stderr", "oops", "--exit", "7"}, grant)));
        REQUIRE(result);
        CHECK(result->exit_code == 7);
        CHECK(result->err == "oops");
        CHECK(result->failure == ExecutorFailure::none);
    }
    SUBCASE("the {\"error\":...} object wxc-exec appends is a backend error") {
        auto result = run(request_for(script_policy({"--error-json", "Process error: UpdateProcThreadAttribute failed"}, grant)));
        REQUIRE(result);
        CHECK(result->exit_code == -1);
        CHECK(result->failure == ExecutorFailure::backend_error);
        CHECK(result->failure_message == "Process error: UpdateProcThreadAttribute failed");
    }
    SUBCASE("Request error is a rejected config") {
        auto result = run(request_for(script_policy({"--request-error", "Unknown top-level field(s) in config: x"}, grant)));
        REQUIRE(result);
        CHECK(result->failure == ExecutorFailure::config_rejected);
        CHECK(result->failure_message == "Unknown top-level field(s) in config: x");
    }
    SUBCASE("a missing executor is a spawn failure, a relative path is refused") {
        auto request = request_for(script_policy({}, grant));
        request.executor_path = here() + "\\no-such-wxc-exec.exe";
        auto missing = run(request);
        REQUIRE(missing);
        CHECK(missing->failure == ExecutorFailure::spawn_failed);
        CHECK(missing->failure_message.find("no-such-wxc-exec.exe") != std::string::npos);
        request.executor_path = "wxc-exec.exe";
        auto relative = run(request);
        REQUIRE_FALSE(relative);
        CHECK(relative.error().code == ErrorCode::unavailable);
    }
}

TEST_CASE("timeout: the job kill reaches the grandchild and run returns within timeout + grace") {
    const std::string pid_file = area("timeout") + "\\grandchild.pid";
    const std::string rec = record_file("timeout");
    auto request = request_for(script_policy({"--record", rec, "--spawn-grandchild", pid_file, "--sleep", "30000"},
                                             area("timeout")),
                               1500);
    auto start = std::chrono::steady_clock::now();
    auto result = run(request);
    auto took = elapsed_ms(start);
    REQUIRE(result);
    record_of("timeout", rec);
    CHECK(result->timed_out);
    CHECK(result->exit_code == static_cast<int>(processcontainer::win::timeout_exit_code));
    MESSAGE("timeout 1500 ms, grace 1000 ms: run returned after " << took << " ms");
    CHECK(took >= 1500);
    CHECK(took < 1500 + 1000 + 1500);  // the last 1.5 s: wine's process start-up, not the runner
    CHECK(result->out.find("GRANDCHILD_STARTED") != std::string::npos);  // written before the kill: kept
    DWORD grandchild = static_cast<DWORD>(std::stoul(slurp(pid_file)));
    REQUIRE(grandchild != 0);
    CHECK_FALSE(process_alive(grandchild));
}

TEST_CASE("no hang when an orphaned grandchild holds the pipes after wxc-exec exits") {
    const std::string pid_file = area("orphan") + "\\grandchild.pid";
    const std::string rec = record_file("orphan");
    auto request = request_for(script_policy({"--record", rec, "--spawn-grandchild", pid_file, "--exit", "0"}, area("orphan")), 0);
    auto start = std::chrono::steady_clock::now();
    auto result = run(request);
    auto took = elapsed_ms(start);
    REQUIRE(result);
    record_of("orphan", rec);
    MESSAGE("the grandchild holds stdout for 60 s; run returned after " << took << " ms");
    CHECK(took < 5000);
    CHECK_FALSE(result->timed_out);
    CHECK(result->exit_code == 0);
    DWORD grandchild = static_cast<DWORD>(std::stoul(slurp(pid_file)));
    REQUIRE(grandchild != 0);
    CHECK_FALSE(process_alive(grandchild));
}

TEST_CASE("a reader blocked by a pipe handle outside the job is cancelled at the drain bound") {
    // The fake duplicates its stdout into this (unjobbed) test process, so the job kill cannot
    // close that write end: only CancelSynchronousIo can end the blocked reader.
    const std::string leak_file = area("leaked-holder") + "\\handle.txt";
    ::DeleteFileW(widen(leak_file)->c_str());
    Policy p = script_policy({"--stdout", "before", "--leak-stdout-to", std::to_string(::GetCurrentProcessId()),
                              leak_file, "--exit", "0"},
                             area("leaked-holder"));
    processcontainer::win::LaunchSpec spec;
    spec.application = *widen(fake_executor());
    spec.command_line = *widen(windows_command_line({fake_executor(), "--config-base64",
                                                      detail::base64_encode(to_mxc_json(p).value())})
                                   .value());
    spec.grace_ms = 800;
    auto start = std::chrono::steady_clock::now();
    auto outcome = processcontainer::win::run_in_job(spec);
    auto took = elapsed_ms(start);
    REQUIRE(outcome);
    REQUIRE(exists(leak_file));
    ::CloseHandle(reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(std::stoull(slurp(leak_file)))));
    MESSAGE("drain bound 800 ms; run_in_job returned after " << took << " ms");
    CHECK(outcome->drain_forced);
    CHECK(outcome->exit_code == 0);
    CHECK(outcome->out == "before");
    CHECK(took >= 800);
    CHECK(took < 800 + 2000);
}

TEST_CASE("output beyond the limit is counted and dropped, per stream") {
    auto request = request_for(script_policy({"--flood", "3000000", "--flood-stderr", "10000"}, area("flood")));
    request.options.output_limit = 1u << 20;
    auto result = run(request);
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    CHECK(result->out.size() == (1u << 20));
    CHECK(result->out_dropped == 3000000 - (1u << 20));
    CHECK(result->err.size() == 10000);
    CHECK(result->err_dropped == 0);
}

TEST_CASE("process.cwd defaults to a granted directory") {
    const std::string rw = area("cwd-rw"), ro = area("cwd-ro");
    SUBCASE("the first read-write directory") {
        const std::string rec = record_file("cwd-default-rw");
        auto p = script_policy({"--record", rec}, rw);
        p.filesystem.readonly = {ro};
        REQUIRE(run(request_for(p)));
        auto config = boost::json::parse(record_of("cwd-default-rw", rec).at("config_text").as_string());
        CHECK(config.at("process").at("cwd").as_string() == rw);
    }
    SUBCASE("read-only directories when no read-write grant is a directory") {
        const std::string file = area("cwd-file") + "\\data.txt";
        spit(file, "x");
        const std::string rec = record_file("cwd-default-ro");
        auto p = script_policy({"--record", rec}, file);
        p.filesystem.readonly = {ro};
        REQUIRE(run(request_for(p)));
        auto config = boost::json::parse(record_of("cwd-default-ro", rec).at("config_text").as_string());
        CHECK(config.at("process").at("cwd").as_string() == ro);
    }
    SUBCASE("a cwd the caller gave is kept") {
        const std::string rec = record_file("cwd-given");
        auto p = script_policy({"--record", rec}, rw);
        p.filesystem.readonly = {ro};
        p.process.cwd = ro;
        REQUIRE(run(request_for(p)));
        auto config = boost::json::parse(record_of("cwd-given", rec).at("config_text").as_string());
        CHECK(config.at("process").at("cwd").as_string() == ro);
    }
}

TEST_CASE("the processcontainer capabilities row makes clamp grant a file's parent, and that is what wxc-exec gets") {
    const std::string dir = area("file-grant");
    const std::string file = dir + "\\secret-sibling-exposed.txt";
    spit(file, "data");
    auto caps = capabilities_for(Backend::processcontainer, default_sdk_version);
    REQUIRE(caps);
    CHECK_FALSE(caps->file_grants);
    CeilingOptions ceiling_options;
    ceiling_options.style = PathStyle::windows;
    auto ceiling = parse_ceiling("{\"readonlyPaths\":[" + boost::json::serialize(boost::json::value(dir)) + "]}",
                                 ceiling_options);
    REQUIRE(ceiling);
    const std::string rec = record_file("file-grant");
    Policy request = script_policy({"--record", rec}, "");
    request.filesystem.readonly = {file};
    ClampOptions clamp_options;
    clamp_options.style = PathStyle::windows;
    auto clamped = clamp(request, *ceiling, *caps, clamp_options);
    REQUIRE(clamped);
    REQUIRE(clamped->policy.filesystem.readonly.size() == 1);
    const std::string parent = clamped->policy.filesystem.readonly[0];
    CHECK(parent.size() < file.size());
    CHECK(processcontainer::win::narrow(*widen(parent)) == parent);
    CHECK(file.rfind("\\secret-sibling-exposed.txt") == file.size() - std::string("\\secret-sibling-exposed.txt").size());

    SUBCASE("a backend row with file grants keeps the file itself") {
        Capabilities with_files = *caps;
        with_files.file_grants = true;
        auto kept = clamp(request, *ceiling, with_files, clamp_options);
        REQUIRE(kept);
        REQUIRE(kept->policy.filesystem.readonly.size() == 1);
        CHECK(kept->policy.filesystem.readonly[0].size() > parent.size());
    }
    SUBCASE("the emitted config grants the parent directory") {
        detail::RunRequest r = request_for(request);
        r.config_json = prepared_config(clamped->policy, emit_contract(clamped->policy));
        auto result = run(r);
        REQUIRE(result);
        CHECK(result->exit_code == 0);
        auto config = boost::json::parse(record_of("file-grant", rec).at("config_text").as_string());
        CHECK(strings(config.at("filesystem").at("readonlyPaths")) == std::vector<std::string>{parent});
        CHECK(config.at("process").at("cwd").as_string() == parent);
    }
}

TEST_CASE("dry run spawns nothing and reports the invocation that would run") {
    const std::string rec = record_file("dry-run");
    auto request = request_for(script_policy({"--record", rec}, area("dry-run")));
    request.options.dry_run = true;
    auto file = run(request);
    REQUIRE(file);
    REQUIRE(file->invocation.size() == 3);
    CHECK(file->invocation[0] == fake_executor());
    CHECK(file->invocation[1] == "--config");
    CHECK(file->invocation[2].find("cordon-XXXX") != std::string::npos);
    request.options.delivery = ConfigDelivery::base64;
    auto inline_config = run(request);
    REQUIRE(inline_config);
    REQUIRE(inline_config->invocation.size() == 3);
    auto config = detail::base64_decode(inline_config->invocation[2]);
    REQUIRE(config);
    CHECK(validate(*config).empty());
    ::Sleep(200);
    CHECK_FALSE(exists(rec));
}

TEST_CASE("command lines over Windows' limit are refused before anything runs") {
    const std::string rec = record_file("too-long");
    auto p = script_policy({"--record", rec}, area("too-long"));
    p.process.command_line += " --stdout " + std::string(40000, 'x');
    auto result = prepare(p, emit_contract(p));  // the module's prepare step refuses it, before any run
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::invalid_policy);
    CHECK(result.error().where == "/process/commandLine");
    auto big = script_policy({"--stdout", std::string(20000, 'y')}, area("too-long"));
    big.process.env = {EnvVar{"PAD", std::string(8000, 'z')}};
    auto by_base64 = request_for(big);
    by_base64.options.delivery = ConfigDelivery::base64;
    auto refused = run(by_base64);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().where == "config_delivery");
    CHECK(run(request_for(big)));  // the same config as a file is fine
    CHECK_FALSE(exists(rec));
}

namespace {

/// Runs `application` with `command_line` through the job runner and returns argv-echo's report.
boost::json::object echo(const std::string& application, const std::string& command_line) {
    processcontainer::win::LaunchSpec spec;
    spec.application = *widen(application);
    spec.command_line = *widen(command_line);
    spec.timeout_ms = 20000;
    auto outcome = processcontainer::win::run_in_job(spec);
    REQUIRE(outcome);
    REQUIRE_FALSE(outcome->spawn_error);
    INFO("stdout: " << outcome->out << "\nstderr: " << outcome->err);
    auto end = outcome->out.find('\n');
    REQUIRE(end != std::string::npos);
    CHECK(outcome->out.find_first_not_of("\r\n", end) == std::string::npos);  // one report, nothing else ran
    return boost::json::parse(outcome->out.substr(0, end)).as_object();
}

std::string system_cmd() {
    wchar_t dir[MAX_PATH];
    UINT n = ::GetSystemDirectoryW(dir, MAX_PATH);
    return narrow(std::wstring(dir, n)) + "\\cmd.exe";
}

}  // namespace

TEST_CASE("MSVCRT quoting round-trips hostile arguments through a real child's CRT and CommandLineToArgvW") {
    const std::string spaced_dir = area("dir with space & more");
    const std::string spaced = spaced_dir + "\\argv echo (copy).exe";
    REQUIRE(::CopyFileW(widen(argv_echo())->c_str(), widen(spaced)->c_str(), FALSE));
    for (const std::string& program : {argv_echo(), spaced}) {
        std::vector<std::string> argv{program};
        for (const auto& a : cordon::test::hostile_args) argv.push_back(a);
        auto line = windows_command_line(argv);
        REQUIRE(line);
        auto report = echo(program, *line);
        CAPTURE(*line);
        CHECK(strings(report.at("crt")) == argv);
        CHECK(strings(report.at("shell32")) == argv);
        CHECK(report.at("raw").as_string() == *line);
    }
}

TEST_CASE("cmd /c rendering: every metacharacter stays inert in cmd.exe") {
    SUBCASE("a program gets exactly its argv back, and no injected command runs") {
        std::vector<std::string> argv{argv_echo()};
        for (const auto& a : cordon::test::hostile_args)
            if (a.find_first_of("\r\n%") == std::string::npos) argv.push_back(a);
        auto line = windows_cmd_command_line(argv);
        REQUIRE(line);
        CAPTURE(*line);
        auto report = echo(system_cmd(), *line);
        INFO("the program saw: " << report.at("raw").as_string());
        CHECK(strings(report.at("crt")) == argv);
        CHECK(strings(report.at("shell32")) == argv);
    }
    SUBCASE("a builtin sees the text literally") {
        auto line = windows_cmd_command_line({"echo", "a&b", "x|y", "<in>", "(z)", "^", "!PATH!", "&&", "a||b"});
        REQUIRE(line);
        processcontainer::win::LaunchSpec spec;
        spec.application = *widen(system_cmd());
        spec.command_line = *widen(*line);
        spec.timeout_ms = 20000;
        auto outcome = processcontainer::win::run_in_job(spec);
        REQUIRE(outcome);
        CHECK(outcome->exit_code == 0);
        CHECK(outcome->out == "a&b x|y <in> (z) ^ !PATH! && a||b\r\n");
        CHECK(outcome->err.empty());
    }
}

TEST_CASE("the module loads through the host's registry, exports the ABI and runs") {
    auto module_dir = fs::path(*widen(here())).parent_path();
    BackendRegistry registry;
    auto backend = registry.load(Backend::processcontainer, module_dir);
    REQUIRE(backend);
    CHECK(backend->name() == "processcontainer");
    auto caps = backend->capabilities("0.9.0");
    REQUIRE(caps);
    CHECK_FALSE(caps->host_filtering);
    CHECK_FALSE(caps->file_grants);
    auto unknown = backend->capabilities("0.8.0");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == ErrorCode::backend_unsupported);
    const std::string rec = record_file("module");
    auto result = backend->run(request_for(script_policy({"--record", rec, "--exit", "3"}, area("module"))));
    REQUIRE(result);
    CHECK(result->exit_code == 3);
    record_of("module", rec);
    char* out = nullptr;
    std::size_t size = 0;
    const char garbage[] = "{not json";
    CHECK(cordon_backend_processcontainer_v1()->run(garbage, sizeof garbage - 1, &out, &size) ==
          static_cast<cordon_status>(ErrorCode::internal));
    REQUIRE(out);
    CHECK(std::string(out, size).find("malformed backend run request") != std::string::npos);
    cordon_backend_processcontainer_v1()->free_buffer(out);
}

TEST_CASE("hold_executor: the held executor cannot be replaced, and it still launches") {
    const std::string dir = area("held");
    const std::string exe = dir + "\\wxc-exec.exe";
    ::DeleteFileW(widen(exe)->c_str());
    REQUIRE(::CopyFileW(widen(fake_executor())->c_str(), widen(exe)->c_str(), FALSE));
    {
        auto held = processcontainer::hold_executor(*widen(exe));
        REQUIRE(held);
        HANDLE writer = ::CreateFileW(widen(exe)->c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                      OPEN_EXISTING, 0, nullptr);
        CHECK(writer == INVALID_HANDLE_VALUE);
        CHECK(::GetLastError() == ERROR_SHARING_VIOLATION);
        if (writer != INVALID_HANDLE_VALUE) ::CloseHandle(writer);
        CHECK_FALSE(::DeleteFileW(widen(exe)->c_str()));
        CHECK_FALSE(::MoveFileW(widen(exe)->c_str(), widen(dir + "\\moved.exe")->c_str()));
        auto request = request_for(script_policy({"--exit", "5"}, dir));
        request.executor_path = exe;
        auto result = run(request);
        REQUIRE(result);
        CHECK(result->exit_code == 5);
    }
    SUBCASE("an executor open for writing elsewhere is refused") {
        HANDLE writer = ::CreateFileW(widen(exe)->c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                      OPEN_EXISTING, 0, nullptr);
        REQUIRE(writer != INVALID_HANDLE_VALUE);
        auto refused = processcontainer::hold_executor(*widen(exe));
        ::CloseHandle(writer);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == ErrorCode::untrusted_executor);
    }
    CHECK(::DeleteFileW(widen(exe)->c_str()));
}

TEST_CASE("the real wxc-exec.exe, verified against its pin, launched through the backend (wine: fails closed)") {
    // Set by wxc_conformance.sh: "SDK=Z:\...\wxc-exec.exe" entries separated by ';', each a copy of a
    // pinned executor next to the wine stub DLLs of ../shared/tools/wine-wxc. wine has no
    // AppContainer, so the real executor must refuse to run the command (exit 255 and its JSON
    // error object): what this shows is verify-then-launch, file delivery and the classification
    // with Microsoft's binary, not containment.
    const char* list = std::getenv("CORDON_REAL_WXC_EXECS");
    if (!list || !*list) {
        MESSAGE("skipped: CORDON_REAL_WXC_EXECS is not set (wxc_conformance.sh sets it)");
        return;
    }
    std::string entries = list;
    for (std::size_t start = 0; start < entries.size();) {
        std::size_t end = entries.find(';', start);
        std::string entry = entries.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? entries.size() : end + 1;
        const std::string sdk = entry.substr(0, entry.find('='));
        const std::string exe = entry.substr(entry.find('=') + 1);
        CAPTURE(sdk);
        ExecutorSpec spec;
        spec.sdk_version = sdk;
        auto verified = verify_executor(fs::path(*widen(exe)), spec);
        REQUIRE(verified);
        CHECK(verified->pin().sdk_version == sdk);
        const std::string grant = area("real-wxc-" + sdk);
        Policy p;
        p.containment = Containment::processcontainer;
        p.process.command_line = windows_cmd_command_line({"echo", "contained"}).value();
        p.filesystem.readwrite = {grant};
        auto request = request_for(p);
        request.config_json = prepared_config(p, emit_contract(p, sdk));  // the contract this SDK gets
        request.executor_path = narrow(verified->launch_path().wstring());
        request.sdk_version = sdk;
        auto result = run(request);  // the verifier's handle is still open: CreateProcessW must cope
        REQUIRE(result);
        INFO("stderr: " << result->err);
        CHECK(result->exit_code == -1);  // Rust's exit(-1); wine's own exit status shows it as 255
        CHECK(result->failure == ExecutorFailure::backend_error);
        CHECK(result->failure_message.find("AppContainer") != std::string::npos);
        CHECK(result->out.find("contained") == std::string::npos);  // nothing ran unsandboxed
        REQUIRE(result->invocation.size() == 3);
        CHECK(result->invocation[1] == "--config");
        CHECK_FALSE(exists(result->invocation[2]));
    }
}
