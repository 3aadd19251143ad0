// SPDX-License-Identifier: MIT
// check_output_target: how a report would be written, told without writing it, and what is refused.
#include "cordon/detail/output_file.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#endif

using namespace cordon;
using detail::OutputTarget;

#if !defined(_WIN32)
namespace {

namespace fs = std::filesystem;

struct Dir {
    fs::path path = fs::temp_directory_path() / ("cordon-output-file-" + std::to_string(::getpid()));
    Dir() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Dir() { fs::remove_all(path); }
};

// The check's answer in words, so that a failing CHECK shows what came instead.
std::string target_of(const std::string& path) {
    auto t = detail::check_output_target(path);
    if (!t) return "error: " + t.error().to_string();
    return *t == OutputTarget::in_place ? "in place" : "replaced";
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_SUITE("output_file") {
    TEST_CASE("a name in an ordinary directory would be replaced, and checking writes nothing there") {
        Dir d;
        CHECK(target_of((d.path / "absent.json").string()) == "replaced");
        std::ofstream(d.path / "old.json") << "old";
        CHECK(target_of((d.path / "old.json").string()) == "replaced");
        CHECK(read_all(d.path / "old.json") == "old");
        fs::create_symlink(d.path / "old.json", d.path / "link.json");
        CHECK(target_of((d.path / "link.json").string()) == "replaced");
        REQUIRE(::mkfifo((d.path / "fifo").c_str(), 0600) == 0);
        CHECK(target_of((d.path / "fifo").string()) == "replaced");
        CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 3);  // no temporary left
    }

    TEST_CASE("a character device and a descriptor open for writing are written in place; checking writes nothing") {
        CHECK(target_of("/dev/null") == "in place");
        int p[2];
        REQUIRE(::pipe(p) == 0);
        CHECK(target_of("/dev/fd/" + std::to_string(p[1])) == "in place");
        CHECK(target_of("/proc/self/fd/" + std::to_string(p[1])) == "in place");
        REQUIRE(::fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
        char c;
        CHECK(::read(p[0], &c, 1) == -1);
        CHECK(errno == EAGAIN);  // the control: the pipe is empty, and the check above wrote nothing
        auto read_end = detail::check_output_target("/dev/fd/" + std::to_string(p[0]));
        REQUIRE_FALSE(read_end.has_value());
        CHECK(read_end.error().message.find("not open for writing") != std::string::npos);
        ::close(p[0]);
        ::close(p[1]);
        auto closed = detail::check_output_target("/dev/fd/" + std::to_string(p[1]));
        REQUIRE_FALSE(closed.has_value());
        CHECK(closed.error().message.find("not an open descriptor") != std::string::npos);
        CHECK(closed.error().where == "/dev/fd/" + std::to_string(p[1]));
    }

    TEST_CASE("what a write would refuse is refused by the check, naming the path") {
        Dir d;
        auto dir = detail::check_output_target(d.path.string());
        REQUIRE_FALSE(dir.has_value());
        CHECK(dir.error().code == ErrorCode::io_error);
        CHECK(dir.error().message.find("is a directory") != std::string::npos);
        auto system_node = detail::check_output_target("/dev/cordon-no-such-node");
        REQUIRE_FALSE(system_node.has_value());
        CHECK(system_node.error().message.find("/dev, /proc or /sys") != std::string::npos);
        CHECK(system_node.error().where == "/dev/cordon-no-such-node");
    }
}
#endif
