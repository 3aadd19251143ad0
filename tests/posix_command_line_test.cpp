// SPDX-License-Identifier: MIT
// Rendered command lines run through the real /bin/sh -c (what lxc-exec does) and come out as the argv.
#include "cordon/posix_command_line.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/run_command.hpp"

using cordon::posix_command_line;

TEST_SUITE("posix_command_line") {
    TEST_CASE("hostile arguments reach the program unchanged through sh -c") {
        std::vector<std::string> hostile = {"plain", "", " spaced  out ", "it's", "'", "''", "\"double\"",
                                            "$(touch /tmp/cordon-injected)", "`id`", "a;b|c&d>e<f", "$HOME ${PATH}",
                                            "back\\slash\\", "new\nline", "tab\tbed", "*?[glob]", "~", "-n", "--",
                                            "héllo ✓", "!history", "#comment"};
        std::vector<std::string> argv = {"printf", "%s\\0"};
        argv.insert(argv.end(), hostile.begin(), hostile.end());
        auto line = posix_command_line(argv);
        REQUIRE(line.has_value());
        auto r = cordon::test::run_command({"/bin/sh", "-c", *line});
        REQUIRE(r.exit_code == 0);
        std::vector<std::string> got;
        std::string current;
        for (char c : r.out) {
            if (c == '\0') { got.push_back(current); current.clear(); }
            else current += c;
        }
        CHECK(got == hostile);
        CHECK(::access("/tmp/cordon-injected", F_OK) != 0);
    }

    TEST_CASE("the shell is replaced by the command, so its exit status is the command's") {
        auto line = posix_command_line({"sh", "-c", "exit 7"});
        REQUIRE(line.has_value());
        CHECK(cordon::test::run_command({"/bin/sh", "-c", *line}).exit_code == 7);
    }

    TEST_CASE("empty argv and NUL bytes are refused with their position") {
        CHECK(posix_command_line({}).error().where == "argv");
        auto r = posix_command_line({"echo", std::string("a\0b", 3)});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == cordon::ErrorCode::invalid_policy);
        CHECK(r.error().where == "argv[1]");
    }
}
