// SPDX-License-Identifier: MIT
// include/cordon/testing/doctest.hpp as a downstream project uses it: the target parameter, and
// what a failing check prints (run as a process: this program, with its deliberately failing
// cases enabled, must fail and print both configs and the report's reasons).
#include <doctest/doctest.h>

#include <string>

#include "cordon/testing/doctest.hpp"
#include "support/run_command.hpp"

using cordon::ErrorCode;
using cordon::testing::TestTarget;

namespace {

constexpr const char* windows_ceiling = R"({"readwritePaths":["C:\\work"],"readonlyPaths":["C:\\tools"],"timeout":30000})";
constexpr const char* windows_request =
    R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},)"
    R"("filesystem":{"readwritePaths":["c:\\WORK\\src","C:\\Windows"],"readonlyPaths":["C:\\tools\\bin"]}})";
constexpr const char* windows_clamped =
    R"({"version":"1.0.0","containment":"processcontainer","process":{"commandLine":"dir","env":[],"timeout":30000},)"
    R"("filesystem":{"readwritePaths":["C:\\WORK\\src"],"readonlyPaths":["C:\\tools\\bin"]},)"
    R"("network":{"egress":{"default":"deny"}}})";

}  // namespace

TEST_SUITE("doctest-helpers") {
    TEST_CASE("the target parameter: Windows paths and ProcessContainer, on any host") {
        CORDON_CHECK_CLAMPS_TO(windows_request, windows_ceiling, windows_clamped, TestTarget::windows());
        // The same texts for the default target (POSIX paths): C:\... are not absolute there.
        auto posix = cordon::testing::clamp_json(windows_request, windows_ceiling);
        CHECK_FALSE(posix.has_value());
    }

    TEST_CASE("the target parameter decides fail-closed questions: each backend's own capabilities") {
        // A denial below a read-write grant: bubblewrap pins its parents, Seatbelt cannot.
        const char* ceiling = R"({"readwritePaths":["/work"],"deniedPaths":["/work/.env"]})";
        const char* request = R"({"version":"0.6.0-alpha","process":{"commandLine":"make"},"filesystem":{"readwritePaths":["/work"]}})";
        CORDON_CHECK_CLAMP_REFUSED(request, ceiling, ErrorCode::backend_unsupported, TestTarget::macos());
        CHECK(cordon::testing::clamp_json(request, ceiling, TestTarget::linux_bubblewrap()).has_value());
        // Host lists: no backend enforces them with the pinned contract; refused for Windows too.
        CORDON_CHECK_CLAMP_REFUSED(
            R"({"version":"0.6.0-alpha","process":{"commandLine":"dir"},"network":{"defaultPolicy":"block","allowedHosts":["example.com"]}})",
            R"({"network":{"defaultPolicy":"allow"}})", ErrorCode::backend_unsupported, TestTarget::windows());
    }

    TEST_CASE("reasons() lists what was not kept, and why") {
        auto outcome = cordon::testing::clamp_json(windows_request, windows_ceiling, TestTarget::windows());
        REQUIRE(outcome);
        const std::string r = cordon::testing::reasons(outcome);
        CHECK(r.find("/filesystem/readwritePaths/1 \"C:\\Windows\": dropped (outside every ceiling root)") != std::string::npos);
        CHECK(r.find("/filesystem/readwritePaths/0") == std::string::npos);  // kept: not listed
    }

    TEST_CASE("a failing check prints the expected and the actual config and the report's reasons") {
        auto r = cordon::test::run_command({"/proc/self/exe", "--no-skip", "--test-suite=deliberately-failing",
                                            "--no-colors", "--no-version"});
        INFO(r.out);
        CHECK(r.exit_code != 0);
        CHECK(r.out.find("the request does not clamp to the expected config (processcontainer 1.0.1, windows paths)") !=
              std::string::npos);
        CHECK(r.out.find(R"(expected: {"version":"1.0.0","containment":"processcontainer","process":{"commandLine":"dir","env":[],"timeout":30000},"filesystem":{"readwritePaths":["C:\\WORK\\src","C:\\Windows"])") !=
              std::string::npos);
        CHECK(r.out.find(R"(actual:   {"version":"1.0.0","containment":"processcontainer","process":{"commandLine":"dir","env":[],"timeout":30000},"filesystem":{"readwritePaths":["C:\\WORK\\src"])") !=
              std::string::npos);
        CHECK(r.out.find(R"(/filesystem/readwritePaths/1 "C:\Windows": dropped (outside every ceiling root))") !=
              std::string::npos);
        CHECK(r.out.find("expected the clamp to be refused with backend-unsupported (bubblewrap 1.0.1, posix paths)") !=
              std::string::npos);
        CHECK(r.out.find("not refused; clamped to {") != std::string::npos);
        CHECK(r.out.find("{?}") == std::string::npos);
    }
}

// Run only by the case above (--no-skip): each check here fails on purpose.
TEST_SUITE("deliberately-failing" * doctest::skip()) {
    TEST_CASE("expects C:\\Windows to be granted") {
        CORDON_CHECK_CLAMPS_TO(
            windows_request, windows_ceiling,
            R"({"version":"1.0.0","containment":"processcontainer","process":{"commandLine":"dir","env":[],"timeout":30000},)"
            R"("filesystem":{"readwritePaths":["C:\\WORK\\src","C:\\Windows"],"readonlyPaths":["C:\\tools\\bin"]},)"
            R"("network":{"egress":{"default":"deny"}}})",
            TestTarget::windows());
    }
    TEST_CASE("expects a refusal that does not happen") {
        CORDON_CHECK_CLAMP_REFUSED(R"({"version":"0.6.0-alpha","process":{"commandLine":"true"}})",
                                   R"({"readwritePaths":["/tmp"]})", ErrorCode::backend_unsupported);
    }
}
