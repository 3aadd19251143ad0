// SPDX-License-Identifier: MIT
// Helper programs of the executor (slirp4netns, iptables, ...): found as execvp finds them on the
// root-only PATH, and usable only when no link on the way and not the file itself can be replaced
// by anyone but root. Real files, links and owners.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cordon/detail/helper_tools.hpp"
#include "cordon/detail/trusted_dirs.hpp"

namespace fs = std::filesystem;
using cordon::detail::find_helper_tools;
using cordon::detail::HelperTool;

namespace {

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Root-only scratch directories (their ancestors too): /run is root's 0755 on Linux; /tmp would
// not do (sticky and world-writable), which is the point of the checks.
struct RootDirs {
    fs::path base;
    RootDirs() {
        std::string t = "/run/cordon-helper-tools-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        base = t;
        fs::permissions(base, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    }
    ~RootDirs() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
    fs::path dir(const std::string& name) const {
        fs::create_directories(base / name);
        fs::permissions(base / name, fs::perms(0755));
        return base / name;
    }
};

void program(const fs::path& p, unsigned mode = 0755) {
    std::ofstream(p) << "#!/bin/sh\nexit 0\n";
    fs::permissions(p, fs::perms(mode));
}

HelperTool one(const std::vector<std::string>& dirs, const std::string& name) {
    auto tools = find_helper_tools(dirs, name);
    REQUIRE(tools.size() == 1);
    return tools[0];
}

}  // namespace

TEST_CASE("helper tools: the system's own programs are found through their links, every directory recorded") {
    auto dirs = cordon::detail::trusted_helper_dirs("/usr/sbin:/usr/bin:/sbin:/bin");
    REQUIRE_FALSE(dirs.empty());
    auto tools = find_helper_tools(dirs, "sh  cordon-no-such-helper");  // two spaces: no empty name
    REQUIRE(tools.size() == 2);
    CHECK(tools[0].name == "sh");
    CHECK(tools[0].usable());
    CHECK(fs::equivalent(tools[0].resolved, "/bin/sh"));
    CHECK_FALSE(tools[0].dirs.empty());
    CHECK(tools[1].name == "cordon-no-such-helper");
    CHECK_FALSE(tools[1].usable());
    CHECK(tools[1].path.empty());
    CHECK(has(tools[1].problem, "not installed in the executor's PATH (" + dirs[0]));
    auto s = cordon::detail::require_helper_tools(tools, "egress rules", "/network/egress");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == cordon::ErrorCode::backend_unsupported);
    CHECK(s.error().where == "/network/egress");
    CHECK(has(s.error().message, "egress rules need 'cordon-no-such-helper'"));
    CHECK(cordon::detail::require_helper_tools({tools[0]}, "egress rules", "/network/egress"));
}

TEST_CASE("helper tools: no trusted directory at all names none") {
    auto t = one({}, "iptables");
    CHECK(has(t.problem, "no trusted directory"));
}

TEST_CASE("helper tools: execvp's choice, and trust in every link and in the file") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: only root can make root-only directories to test in");
        return;
    }
    RootDirs root;
    const std::string a = root.dir("a").string(), b = root.dir("b").string();

    SUBCASE("a file without an execute bit, or a dangling link, is passed over, as execvp does") {
        program(root.base / "a" / "t1", 0644);
        fs::create_symlink(root.base / "nowhere", root.base / "a" / "t2");
        fs::create_symlink("t3", root.base / "a" / "t3");  // a loop: stat fails, execvp goes on
        for (const char* n : {"t1", "t2", "t3"}) program(root.base / "b" / n);
        auto tools = find_helper_tools({a, b}, "t1 t2 t3");
        REQUIRE(tools.size() == 3);
        for (const auto& t : tools) {
            CHECK(t.usable());
            CHECK(t.path == b + "/" + t.name);
        }
    }
    SUBCASE("the first executable wins even when a later one would be fine") {
        program(root.base / "a" / "t", 0775);  // group-writable: whoever is in the group can replace it
        program(root.base / "b" / "t");
        auto t = one({a, b}, "t");
        CHECK(t.path == a + "/t");
        CHECK_FALSE(t.usable());
        CHECK(has(t.problem, "writable by its group or by others"));
    }
    SUBCASE("a file not owned by root is refused") {
        program(root.base / "a" / "t");
        REQUIRE(::chown((root.base / "a" / "t").c_str(), 12345, 12345) == 0);
        CHECK(has(one({a}, "t").problem, "owned by uid 12345"));
    }
    SUBCASE("a link into a directory others can write (/tmp) is refused, naming the link") {
        std::string tmp = (fs::temp_directory_path() / "cordon-helper-plant-XXXXXX").string();
        REQUIRE(::mkdtemp(tmp.data()) != nullptr);
        program(fs::path(tmp) / "iptables-restore");
        fs::create_symlink(fs::path(tmp) / "iptables-restore", root.base / "a" / "iptables-restore");
        auto t = one({a}, "iptables-restore");
        fs::remove_all(tmp);
        CHECK_FALSE(t.usable());
        CHECK(has(t.problem, tmp + "/iptables-restore lies in"));
        CHECK(has(t.problem, "writable by its group or by others"));
    }
    SUBCASE("a chain of relative links through root-only directories is followed to the file") {
        fs::create_directories(root.base / "c");
        fs::permissions(root.base / "c", fs::perms(0755));
        program(root.base / "c" / "multi");
        fs::create_symlink("../b/alt", root.base / "a" / "t");
        fs::create_symlink("../c/multi", root.base / "b" / "alt");
        auto t = one({a}, "t");
        CHECK(t.usable());
        CHECK(fs::equivalent(t.resolved, root.base / "c" / "multi"));
        CHECK(t.dirs == std::vector<std::string>{a, b, (root.base / "c").string()});
    }
}
