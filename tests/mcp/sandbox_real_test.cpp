// SPDX-License-Identifier: MIT
// The real tools with the real lxc-exec and bwrap: grants enforced by the kernel, planted links, cancel by pid.
// Exits 77 (skip) with the reason when the executor is missing (1 with CORDON_REQUIRE_EXECUTOR set).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "cordon/backend_host.hpp"
#include "cordon/ceiling_loader.hpp"
#include "support/test_user.hpp"
#include "sandbox_tools.hpp"
#include "support/process_gone.hpp"

extern "C" const cordon_backend_v1* cordon_backend_bubblewrap_v1(void);

using namespace cordon;
using namespace cordon::mcp;
namespace fs = std::filesystem;

namespace {

class NullProgress : public ProgressSink {
public:
    void report(double, std::optional<double>, const std::string&) override { ++reports; }
    std::atomic<int> reports{0};
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A scratch tree: rw/ and ro/ are the ceiling's roots, outside/ is not in the ceiling.
struct Fixture {
    fs::path root;
    std::unique_ptr<SandboxTools> tools;
    std::string executor_dir;  // where the verified executor really lies
    explicit Fixture(SandboxToolsOptions options = {}, bool ceiling_grants_executor_dir = false) {
        std::string t = (fs::temp_directory_path() / "cordon-mcp-real-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        root = fs::canonical(t);
        for (const char* d : {"rw", "ro", "outside"}) fs::create_directories(root / d);
        std::ofstream(root / "ro" / "doc.txt") << "read me\n";
        std::ofstream(root / "outside" / "secret.txt") << "SECRET";
        // As root the sandbox runs as the test user (the ceiling names it): it must reach the tree.
        fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        for (const char* d : {"rw", "ro"}) cordon::test::hand_to_run_user(root / d);
        static BackendRegistry registry = [] {
            BackendRegistry r;
            r.add(cordon_backend_bubblewrap_v1()).value();
            return r;
        }();
        RunnerOptions ro;
        ro.registry = &registry;
        auto runner = make_runner(ro);
        REQUIRE_MESSAGE(runner, (runner ? "" : runner.error().to_string()));
        executor_dir = runner->executor().real_path().parent_path().string();
        std::string rw = "\"" + (root / "rw").string() + "\"";
        if (ceiling_grants_executor_dir) rw += ",\"" + executor_dir + "\"";
        std::string run_as = ::geteuid() == 0 ? R"("runAs":"cordon-test",)" : "";
        auto ceiling = parse_ceiling("{" + run_as + R"("readonlyPaths":[")" + (root / "ro").string() +
                                     R"("],"readwritePaths":[)" + rw + R"(],"timeout":60000})");
        REQUIRE(ceiling);
        options.progress_interval = std::chrono::milliseconds(100);
        tools = std::make_unique<SandboxTools>(std::move(*runner), std::move(*ceiling), options);
    }
    ~Fixture() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    std::string at(const std::string& rel) const { return (root / rel).string(); }
};

}  // namespace

TEST_CASE("write_file writes inside a read-write root; the bytes on disk are exactly the content") {
    Fixture f;
    CancelToken cancel;
    NullProgress progress;
    const std::string content("bin\0ary\xff\n", 9);
    auto r = f.tools->write_file({f.at("rw/out.bin"), content}, cancel, progress);
    INFO((r.error ? r.error->message : std::string()));
    CHECK(r.status == CallStatus::completed);
    CHECK(r.bytes_written == 9);
    CHECK(slurp(f.root / "rw" / "out.bin") == content);
    CHECK(progress.reports >= 1);
    // 200 KiB travel in several environment chunks
    std::string big(200 * 1024, 'z');
    CHECK(f.tools->write_file({f.at("rw/big.txt"), big}, cancel, progress).status == CallStatus::completed);
    CHECK(slurp(f.root / "rw" / "big.txt") == big);
    CHECK(f.tools->write_file({f.at("rw/empty"), ""}, cancel, progress).status == CallStatus::completed);
    CHECK(fs::file_size(f.root / "rw" / "empty") == 0);
}

TEST_CASE("write_file outside the ceiling or into a read-only root is refused, with the reason") {
    Fixture f;
    CancelToken cancel;
    NullProgress progress;
    auto out = f.tools->write_file({f.at("outside/x"), "no"}, cancel, progress);
    CHECK(out.status == CallStatus::refused);
    REQUIRE(out.error);
    CHECK(out.error->code == "outside-ceiling");
    CHECK(out.error->field == "/path");
    CHECK(out.error->message.find("outside every ceiling root") != std::string::npos);
    CHECK_FALSE(fs::exists(f.root / "outside" / "x"));
    auto ro = f.tools->write_file({f.at("ro/doc.txt"), "changed"}, cancel, progress);
    CHECK(ro.status == CallStatus::refused);
    REQUIRE(ro.error);
    CHECK(ro.error->message.find("read-only") != std::string::npos);
    CHECK(slurp(f.root / "ro" / "doc.txt") == "read me\n");
    auto missing = f.tools->write_file({f.at("rw/no/such/dir/x"), "a"}, cancel, progress);
    CHECK(missing.status != CallStatus::completed);
    CHECK_FALSE(fs::exists(f.root / "rw" / "no"));
}

TEST_CASE("a symlink planted by an earlier run cannot redirect write_file or read_file") {
    Fixture f;
    CancelToken cancel;
    NullProgress progress;
    // What an earlier run_command with rw/ granted could leave behind:
    fs::create_symlink(f.root / "outside" / "secret.txt", f.root / "rw" / "link");
    fs::create_symlink(f.root / "outside", f.root / "rw" / "dirlink");
    auto w = f.tools->write_file({f.at("rw/link"), "overwritten"}, cancel, progress);
    CHECK(w.status != CallStatus::completed);
    auto w2 = f.tools->write_file({f.at("rw/dirlink/secret.txt"), "overwritten"}, cancel, progress);
    CHECK(w2.status == CallStatus::refused);
    CHECK(slurp(f.root / "outside" / "secret.txt") == "SECRET");
    auto r = f.tools->read_file({f.at("rw/link"), std::nullopt}, cancel, progress);
    CHECK(r.status == CallStatus::refused);
    CHECK(r.content.empty());
    auto r2 = f.tools->read_file({f.at("rw/dirlink/secret.txt"), std::nullopt}, cancel, progress);
    CHECK(r2.status == CallStatus::refused);
    CHECK(r2.content.empty());
}

TEST_CASE("the executor's directory stays read-only, even under a ceiling that grants it") {
    Fixture f({}, true);
    CancelToken cancel;
    NullProgress progress;
    const std::string probe = f.executor_dir + "/cordon-mcp-anchor-probe";
    REQUIRE_MESSAGE(!fs::exists(probe), probe << " is left from a run that could write there: remove it");
    auto w = f.tools->write_file({probe, "replaced"}, cancel, progress);
    CHECK(w.status == CallStatus::refused);
    REQUIRE(w.error);
    CHECK(w.error->message.find("read-only") != std::string::npos);
    RunCommandArgs a;
    a.command = "touch " + probe;
    a.readwrite_paths = {f.executor_dir};
    auto r = f.tools->run_command(a, cancel, progress);
    REQUIRE(r.clamp.size() >= 1);
    CHECK(r.clamp[0].verdict == Verdict::downgraded);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(fs::exists(probe));
}

TEST_CASE("read_file reads a granted file, bounded; refuses what the ceiling does not grant") {
    Fixture f;
    CancelToken cancel;
    NullProgress progress;
    auto r = f.tools->read_file({f.at("ro/doc.txt"), std::nullopt}, cancel, progress);
    CHECK(r.status == CallStatus::completed);
    CHECK(r.content == "read me\n");
    CHECK_FALSE(r.truncated);
    auto cut = f.tools->read_file({f.at("ro/doc.txt"), 4}, cancel, progress);
    CHECK(cut.content == "read");
    CHECK(cut.truncated);
    auto etc = f.tools->read_file({"/etc/hostname", std::nullopt}, cancel, progress);  // visible in the sandbox
    CHECK(etc.status == CallStatus::refused);
    CHECK(etc.content.empty());
    auto dir = f.tools->read_file({f.at("ro"), std::nullopt}, cancel, progress);
    CHECK(dir.status != CallStatus::completed);
    auto rel = f.tools->read_file({"ro/doc.txt", std::nullopt}, cancel, progress);
    CHECK(rel.status == CallStatus::refused);
    CHECK(rel.error->code == "invalid-arguments");
}

TEST_CASE("run_command: grants, the clamp report, and a cancel that leaves no process alive (by pid)") {
    Fixture f;
    NullProgress progress;
    {
        CancelToken cancel;
        RunCommandArgs a;
        a.command = "echo hi > made.txt; cat " + f.at("ro/doc.txt") + "; echo x > " + f.at("outside/y");
        a.cwd = f.at("rw");
        a.readwrite_paths = {f.at("rw"), f.at("outside")};
        a.readonly_paths = {f.at("ro")};
        auto r = f.tools->run_command(a, cancel, progress);
        CHECK(r.status == CallStatus::completed);
        CHECK(r.out == "read me\n");
        CHECK(r.exit_code != 0);  // the write outside failed inside the sandbox
        CHECK(slurp(f.root / "rw" / "made.txt") == "hi\n");
        CHECK_FALSE(fs::exists(f.root / "outside" / "y"));
        bool dropped = false;
        for (const auto& d : r.clamp)
            if (d.argument == "/readwrite_paths/1") dropped = d.verdict == Verdict::dropped && !d.reason.empty();
        CHECK(dropped);
    }
    const std::string marker = "3600." + std::to_string(::getpid());
    CancelToken cancel;
    RunCommandArgs a;
    a.command = "sleep " + marker + " & sleep " + marker + " & wait";
    RunCommandResult result;
    std::thread run([&] { result = f.tools->run_command(a, cancel, progress); });
    std::vector<int> sleepers;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         sleepers.size() < 2 && std::chrono::steady_clock::now() < until;) {
        sleepers = cordon::test::processes_mentioning(std::string("sleep\0", 6) + marker);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    cancel.cancel();
    run.join();
    CHECK(result.status == CallStatus::cancelled);
    REQUIRE(sleepers.size() == 2);
    for (int pid : sleepers) CHECK(cordon::test::becomes_gone(pid));
}

int main(int argc, char** argv) {
    const bool required = std::getenv("CORDON_REQUIRE_EXECUTOR") != nullptr;
    const char* dir = std::getenv("MXC_BIN_DIR");
    if (!dir || !*dir) {
        std::cout << "SKIP: MXC_BIN_DIR is not set, so the MCP tools are not tested in the real sandbox. Install it "
                     "with\n  eval \"$(scripts/setup_sandbox.sh --print-env)\"\n";
        return required ? 1 : 77;
    }
    if (::access("/usr/bin/bwrap", X_OK) != 0 && ::access("/bin/bwrap", X_OK) != 0) {
        std::cout << "SKIP: bwrap is not installed (scripts/install-deps.sh installs it)\n";
        return required ? 1 : 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
