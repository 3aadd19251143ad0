// SPDX-License-Identifier: MIT
// canonical(): real symlinks, loops, dangling links, unreadable directories and absent tails in a temp dir.
#include "cordon/canonical.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_tree.hpp"

using namespace cordon;
namespace fs = std::filesystem;
using cordon::test::TempTree;

namespace {
Resolved resolve(const std::string& text) {
    auto r = canonical(text);
    REQUIRE_MESSAGE(r.has_value(), (text + ": " + (r ? std::string() : r.error().to_string())));
    return *r;
}
}  // namespace

TEST_SUITE("canonical") {
    TEST_CASE("existing directories and files are canonical, with their kind") {
        TempTree t;
        t.dir("a/b");
        t.file("a/f.txt");
        auto d = resolve(t.path("a/./b/../b/"));
        CHECK(d.state == Resolution::canonical);
        CHECK(d.path.str() == t.path("a/b"));
        CHECK(d.kind == EntryKind::directory);
        auto f = resolve(t.path("a/f.txt"));
        CHECK(f.state == Resolution::canonical);
        CHECK(f.kind == EntryKind::other);
        CHECK(resolve("/").path.str() == "/");
    }

    TEST_CASE("symlinks resolve, including relative targets and .. after a link (physical, like realpath)") {
        TempTree t;
        t.dir("real/sub");
        t.dir("other");
        t.link("a", "real");                  // relative target
        t.link("other/up", "../real/sub");    // relative with ..
        t.link("abs", t.path("real/sub"));    // absolute target
        CHECK(resolve(t.path("a/sub")).path.str() == t.path("real/sub"));
        CHECK(resolve(t.path("other/up")).path.str() == t.path("real/sub"));
        CHECK(resolve(t.path("abs/..")).path.str() == t.path("real"));  // lexically it would be the temp root
        char* rp = ::realpath(t.path("abs/..").c_str(), nullptr);
        REQUIRE(rp);
        CHECK(resolve(t.path("abs/..")).path.str() == rp);
        std::free(rp);
    }

    TEST_CASE("a symlink inside a directory that points outside resolves outside") {
        TempTree t;
        t.dir("granted");
        t.dir("secret");
        t.link("granted/escape", t.path("secret"));
        auto r = resolve(t.path("granted/escape/key"));
        CHECK(r.state == Resolution::absent);
        CHECK(r.path.str() == t.path("secret/key"));
    }

    TEST_CASE("non-existent paths: longest existing ancestor canonicalised, the rest appended") {
        TempTree t;
        t.dir("real");
        t.link("l", "real");
        auto r = resolve(t.path("l/new/deeper/file.txt"));
        CHECK(r.state == Resolution::absent);
        CHECK(r.path.str() == t.path("real/new/deeper/file.txt"));
        CHECK(r.kind == EntryKind::unknown);
        // .. inside the absent tail walks back onto existing ground, which is resolved again.
        t.link("real/esc", "/etc");
        auto back = resolve(t.path("l/missing/../esc"));
        CHECK(back.state == Resolution::canonical);
        CHECK(back.path.str() == resolve("/etc").path.str());
    }

    TEST_CASE("unknown: symlink loop, self loop, dangling link, file used as directory") {
        TempTree t;
        t.link("loop1", "loop2");
        t.link("loop2", "loop1");
        t.link("self", "self");
        t.link("dangling", t.path("nowhere/file"));
        t.file("plain");
        for (const char* name : {"loop1", "self", "loop1/x", "dangling", "dangling/x", "plain/x"}) {
            CAPTURE(name);
            auto r = resolve(t.path(name));
            CHECK(r.state == Resolution::unknown);
            CHECK(!r.reason.empty());
            CHECK(r.path.str() == t.path(name));  // the lexical spelling, for the report
        }
        CHECK(resolve(t.path("loop1")).reason.find("link") != std::string::npos);
        CHECK(resolve(t.path("dangling")).reason.find("dangling") != std::string::npos);
        // `.` and `..` after a file still need it to be a directory, as realpath(3) says.
        CHECK(resolve(t.path("plain/.")).state == Resolution::unknown);
        CHECK(resolve(t.path("plain/..")).state == Resolution::unknown);
    }

    TEST_CASE("unknown: a directory the caller may not search") {
        if (::geteuid() == 0) {
            // root ignores directory permissions, so drop privileges in a child to test EACCES.
            TempTree t;
            t.dir("locked/inner");
            ::chmod(t.path("locked").c_str(), 0700);
            ::chmod(t.root().c_str(), 0755);
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
                auto r = canonical(t.path("locked/inner"));
                ::_exit(!r ? 4 : r->state == Resolution::unknown && r->reason.find("ermission") != std::string::npos ? 0 : 5);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
        } else {
            TempTree t;
            t.dir("locked/inner");
            ::chmod(t.path("locked").c_str(), 0);
            auto r = resolve(t.path("locked/inner"));
            ::chmod(t.path("locked").c_str(), 0700);
            CHECK(r.state == Resolution::unknown);
            CHECK(r.reason.find("ermission") != std::string::npos);
        }
    }

    TEST_CASE("~ expands to $HOME; ~user and relative paths are errors naming the input") {
        const char* home = std::getenv("HOME");
        if (home && *home) {
            auto r = resolve("~");
            CHECK(r.path == resolve(home).path);
        }
        CHECK(expand_home("~/x", PathStyle::posix).value().rfind("/x") != std::string::npos);
        CHECK(expand_home("/a/~", PathStyle::posix).value() == "/a/~");
        auto bad = canonical("~root/x");
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().where == "~root/x");
        auto rel = canonical("relative/x");
        REQUIRE_FALSE(rel.has_value());
        CHECK(rel.error().code == ErrorCode::invalid_policy);
        CHECK(rel.error().where == "relative/x");
        CHECK_FALSE(canonical(std::string("/a\0b", 4)).has_value());
    }
}
