// SPDX-License-Identifier: MIT
// How a downstream project unit-tests its own ceiling with cordon's doctest helpers: no executor,
// no disk access, the same verdicts on every machine.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "cordon/testing/doctest.hpp"

// The ceiling this (imaginary) agent host ships to its operators.
constexpr const char* our_ceiling = R"({
  "readonlyPaths": ["/home/dev/project"],
  "readwritePaths": ["/home/dev/project/build", "/tmp/agent"],
  "timeout": 60000,
  "env": {"allow": ["LANG", "LC_*"]}
})";

TEST_CASE("the agent may write build output but not sources") {
    CORDON_CHECK_CLAMPS_TO(
        R"({"version":"0.6.0-alpha","process":{"commandLine":"make","cwd":"/home/dev/project/build"},
            "filesystem":{"readwritePaths":["/home/dev/project","/home/dev/project/build"]}})",
        our_ceiling,
        R"({"version":"0.6.0-alpha","containment":"bubblewrap",
            "process":{"commandLine":"make","cwd":"/home/dev/project/build","timeout":60000},
            "filesystem":{"readwritePaths":["/home/dev/project/build"],"readonlyPaths":["/home/dev/project"]},
            "network":{"defaultPolicy":"block"}})");
}

TEST_CASE("an agent cannot lift the operator's timeout, and 0 means the operator's limit") {
    CORDON_CHECK_CLAMPS_TO(
        R"({"version":"0.6.0-alpha","process":{"commandLine":"sleep 1","timeout":0}})", our_ceiling,
        R"({"version":"0.6.0-alpha","containment":"bubblewrap","process":{"commandLine":"sleep 1","timeout":60000},
            "network":{"defaultPolicy":"block"}})");
}

TEST_CASE("host allow-lists are refused rather than silently opening the network") {
    CORDON_CHECK_CLAMP_REFUSED(
        R"({"version":"0.6.0-alpha","process":{"commandLine":"curl x"},
            "network":{"defaultPolicy":"block","allowedHosts":["example.com"]}})",
        R"({"network":{"defaultPolicy":"allow"}})", cordon::ErrorCode::backend_unsupported);
}

TEST_CASE("the same host on Windows: ProcessContainer and Windows paths, tested on any OS") {
    CORDON_CHECK_CLAMPS_TO(
        R"({"version":"0.6.0-alpha","process":{"commandLine":"msbuild","cwd":"C:\\agent\\build"},
            "filesystem":{"readwritePaths":["c:\\AGENT\\build","C:\\Windows"]}})",
        R"({"readwritePaths":["C:\\agent"],"timeout":60000})",
        R"({"version":"0.6.0-alpha","containment":"processcontainer",
            "process":{"commandLine":"msbuild","cwd":"C:\\agent\\build","timeout":60000},
            "filesystem":{"readwritePaths":["C:\\AGENT\\build"]},"network":{"defaultPolicy":"block"}})",
        cordon::testing::TestTarget::windows());
}
