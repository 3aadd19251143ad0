// SPDX-License-Identifier: MIT
// Path: lexical normalisation, every rejection rule and within(), for both styles on any host.
#include "cordon/path.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using namespace cordon;

namespace {
std::string norm(std::string_view text, PathStyle style) {
    auto p = Path::parse(text, style);
    REQUIRE_MESSAGE(p.has_value(), (std::string(text) + " -> " + (p ? std::string() : p.error().to_string())));
    return p->str();
}
std::string win(std::string_view text) { return norm(text, PathStyle::windows); }
std::string posix(std::string_view text) { return norm(text, PathStyle::posix); }

// The error message for a rejected path, which must name the input.
std::string rejected(std::string_view text, PathStyle style) {
    auto p = Path::parse(text, style);
    REQUIRE_MESSAGE(!p.has_value(), (std::string(text) + " was accepted as " + (p ? p->str() : std::string())));
    CHECK(p.error().code == ErrorCode::invalid_policy);
    CHECK(p.error().where == std::string(text));
    return p.error().message;
}
bool in(std::string_view child, std::string_view root, PathStyle style) {
    return within(Path::parse(child, style).value(), Path::parse(root, style).value());
}
}  // namespace

TEST_SUITE("path") {
    TEST_CASE("posix: separators, dots and dot-dots normalise; .. never climbs above /") {
        CHECK(posix("/") == "/");
        CHECK(posix("//") == "/");
        CHECK(posix("/a//b///c/") == "/a/b/c");
        CHECK(posix("/a/./b/.") == "/a/b");
        CHECK(posix("/a/b/../c") == "/a/c");
        CHECK(posix("/../../etc") == "/etc");
        CHECK(posix("/a/..") == "/");
        CHECK(posix("/a\\b") == "/a\\b");  // a backslash is an ordinary character on POSIX
        CHECK(posix("/a:b/c.") == "/a:b/c.");
        // Already normal (taken as is) next to the nearest spellings that are not.
        CHECK(posix("/a/b") == "/a/b");
        CHECK(posix("/.../.a/..b/b.") == "/.../.a/..b/b.");
        CHECK(posix("/a/b/..") == "/a");
        CHECK(posix("/a/.") == "/a");
        CHECK(posix("/.") == "/");
        CHECK(posix("/..") == "/");
    }

    TEST_CASE("posix: rejects empty, NUL and relative paths") {
        CHECK(rejected("", PathStyle::posix).find("empty") != std::string::npos);
        CHECK(rejected(std::string("/a\0b", 4), PathStyle::posix).find("NUL") != std::string::npos);
        CHECK(rejected("a/b", PathStyle::posix).find("relative") != std::string::npos);
        CHECK(rejected("~/x", PathStyle::posix).find("~") != std::string::npos);
        CHECK(rejected("C:\\x", PathStyle::posix).find("relative") != std::string::npos);
    }

    TEST_CASE("windows: separators, case of the drive, dots, trailing separators") {
        CHECK(win("C:\\") == "C:\\");
        CHECK(win("c:/") == "C:\\");
        CHECK(win("C:/Users/me/") == "C:\\Users\\me");
        CHECK(win("c:\\Users\\\\me\\.\\docs\\..\\x") == "C:\\Users\\me\\x");
        CHECK(win("C:\\..\\..\\Windows") == "C:\\Windows");
        CHECK(win("C:\\a\\b\\..\\..\\..") == "C:\\");
        CHECK(win("\\\\srv\\share") == "\\\\srv\\share\\");
        CHECK(win("\\\\srv\\share\\x\\..\\..\\y") == "\\\\srv\\share\\y");  // never above the share
        CHECK(win("//srv/share/x") == "\\\\srv\\share\\x");
    }

    TEST_CASE("windows: \\\\?\\ long-path prefixes name the same path") {
        CHECK(win("\\\\?\\C:\\x") == "C:\\x");
        CHECK(win("\\\\?\\c:\\x\\y\\") == "C:\\x\\y");
        CHECK(win("\\\\?\\UNC\\srv\\share\\x") == "\\\\srv\\share\\x");
        CHECK(win("\\\\?\\unc\\srv\\share") == "\\\\srv\\share\\");
        CHECK(Path::parse("\\\\?\\C:\\x", PathStyle::windows).value() == Path::parse("c:\\X", PathStyle::windows).value());
    }

    TEST_CASE("windows: relative, drive-relative and root-relative paths are rejected") {
        CHECK(rejected("foo\\bar", PathStyle::windows).find("relative") != std::string::npos);
        CHECK(rejected("C:foo", PathStyle::windows).find("drive-relative") != std::string::npos);
        CHECK(rejected("C:", PathStyle::windows).find("drive-relative") != std::string::npos);
        CHECK(rejected("\\foo", PathStyle::windows).find("root-relative") != std::string::npos);
        CHECK(rejected("/foo", PathStyle::windows).find("root-relative") != std::string::npos);
        CHECK(rejected("", PathStyle::windows).find("empty") != std::string::npos);
        CHECK(rejected("~\\x", PathStyle::windows).find("relative") != std::string::npos);
    }

    TEST_CASE("windows: device paths and reserved names are rejected in any component") {
        CHECK(rejected("\\\\.\\C:\\x", PathStyle::windows).find("device") != std::string::npos);
        CHECK(rejected("\\\\.\\PhysicalDrive0", PathStyle::windows).find("device") != std::string::npos);
        CHECK(rejected("\\\\?\\GLOBALROOT\\Device\\Harddisk0", PathStyle::windows).find("GLOBALROOT") != std::string::npos);
        CHECK(rejected("\\\\?\\globalroot\\x", PathStyle::windows).find("device") != std::string::npos);
        CHECK(rejected("\\\\?\\Volume{12345678-1234-1234-1234-123456789abc}\\x", PathStyle::windows).find("volume") !=
              std::string::npos);
        CHECK(rejected("\\??\\C:\\x", PathStyle::windows).find("NT object") != std::string::npos);
        for (const char* name : {"CON", "con", "NUL", "nul.txt", "PRN", "AUX.tar.gz", "COM1", "com9.log", "LPT1",
                                 "lpt0", "CONIN$", "conout$", "NUL .txt", "COM\xC2\xB9"}) {
            CAPTURE(name);
            CHECK(rejected(std::string("C:\\dir\\") + name + "\\x", PathStyle::windows).find("reserved") !=
                  std::string::npos);
            CHECK(rejected(std::string("C:\\") + name, PathStyle::windows).find("reserved") != std::string::npos);
        }
        // Near misses are ordinary names.
        CHECK(win("C:\\CONSOLE\\COM10\\NULL\\LPT\\xCON") == "C:\\CONSOLE\\COM10\\NULL\\LPT\\xCON");
    }

    TEST_CASE("windows: streams, trailing dots and spaces, wildcards, NUL, bad UTF-8") {
        CHECK(rejected("C:\\docs\\file.txt:secret", PathStyle::windows).find("data stream") != std::string::npos);
        CHECK(rejected("C:\\docs\\file.txt::$DATA", PathStyle::windows).find("data stream") != std::string::npos);
        CHECK(rejected("C:\\x\\C:\\y", PathStyle::windows).find("data stream") != std::string::npos);
        CHECK(rejected("C:\\docs.", PathStyle::windows).find("dot or space") != std::string::npos);
        CHECK(rejected("C:\\docs. \\x", PathStyle::windows).find("dot or space") != std::string::npos);
        CHECK(rejected("C:\\docs \\x", PathStyle::windows).find("dot or space") != std::string::npos);
        CHECK(rejected("C:\\...\\x", PathStyle::windows).find("dot or space") != std::string::npos);
        CHECK(rejected("C:\\a*", PathStyle::windows).find("does not allow") != std::string::npos);
        CHECK(rejected("C:\\a?b", PathStyle::windows).find("does not allow") != std::string::npos);
        CHECK(rejected("C:\\a\"b", PathStyle::windows).find("does not allow") != std::string::npos);
        CHECK(rejected("C:\\a\x01", PathStyle::windows).find("does not allow") != std::string::npos);
        CHECK(rejected(std::string("C:\\a\0b", 6), PathStyle::windows).find("NUL") != std::string::npos);
        CHECK(rejected("C:\\\xff\xfe", PathStyle::windows).find("UTF-8") != std::string::npos);
        CHECK(rejected("C:\\\xed\xa0\x80", PathStyle::windows).find("UTF-8") != std::string::npos);  // surrogate
        CHECK(rejected("\\\\srv", PathStyle::windows).find("share") != std::string::npos);
        CHECK(rejected("\\\\srv\\", PathStyle::windows).find("share") != std::string::npos);
        CHECK(rejected("\\\\srv\\..\\x", PathStyle::windows).find("..") != std::string::npos);
        CHECK(win("C:\\.hidden\\a b\\x.y") == "C:\\.hidden\\a b\\x.y");
    }

    TEST_CASE("within is component-wise, case-insensitive only for Windows") {
        CHECK(in("/home/a", "/home/a", PathStyle::posix));
        CHECK(in("/home/a/x", "/home/a", PathStyle::posix));
        CHECK_FALSE(in("/home/ab", "/home/a", PathStyle::posix));
        CHECK_FALSE(in("/home", "/home/a", PathStyle::posix));
        CHECK_FALSE(in("/home/A", "/home/a", PathStyle::posix));
        CHECK(in("/anything", "/", PathStyle::posix));
        CHECK(in("/home/a/../b", "/home", PathStyle::posix));
        CHECK_FALSE(in("/home/a/../../etc", "/home", PathStyle::posix));

        CHECK(in("C:\\Users\\me\\x", "C:\\Users\\me", PathStyle::windows));
        CHECK(in("c:\\USERS\\ME\\x", "C:\\Users\\me", PathStyle::windows));
        CHECK(in("\\\\?\\C:\\Users\\me", "c:/users/me/", PathStyle::windows));
        CHECK_FALSE(in("C:\\Users\\me2", "C:\\Users\\me", PathStyle::windows));
        CHECK_FALSE(in("C:\\Users\\me2\\x", "C:\\Users\\me", PathStyle::windows));
        CHECK_FALSE(in("D:\\Users\\me", "C:\\Users\\me", PathStyle::windows));
        CHECK(in("C:\\x", "C:\\", PathStyle::windows));
        CHECK_FALSE(in("D:\\x", "C:\\", PathStyle::windows));
        CHECK(in("\\\\SRV\\Share\\x", "\\\\srv\\share", PathStyle::windows));
        CHECK_FALSE(in("\\\\srv\\share2\\x", "\\\\srv\\share", PathStyle::windows));
        CHECK_FALSE(in("C:\\Users\\me\\..\\you", "C:\\Users\\me", PathStyle::windows));
        // Non-ASCII letters fold too (Latin-1, Greek, Cyrillic), by a fixed table, not the locale.
        CHECK(in("C:\\\xC3\x84rger\\x", "C:\\\xC3\xA4rger", PathStyle::windows));            // Ä / ä
        CHECK(in("C:\\\xD0\x94\\x", "C:\\\xD0\xB4", PathStyle::windows));                     // Д / д
        CHECK(in("C:\\\xC4\xB0", "C:\\\xC4\xB0", PathStyle::windows));
        CHECK_FALSE(in("C:\\I", "C:\\\xC4\xB1", PathStyle::windows));                         // dotless i stays apart
        CHECK(in("C:\\\xC3\xBF\\x", "C:\\\xC5\xB8", PathStyle::windows));                      // ÿ / Ÿ
        CHECK(in("C:\\\xC5\xB8\\x", "C:\\\xC3\xBF", PathStyle::windows));
        CHECK_FALSE(in("C:\\\xC5\xB7", "C:\\\xC5\xB8", PathStyle::windows));                     // ŷ is not Ÿ

        auto p = Path::parse("/a", PathStyle::posix).value();
        auto w = Path::parse("C:\\a", PathStyle::windows).value();
        CHECK_FALSE(within(p, w));
        CHECK_FALSE(within(w, p));
    }

    TEST_CASE("the Windows upcase table is a projection: an upper-case letter stays itself") {
        for (std::uint32_t c = 0; c <= 0xFFFF; ++c) {
            std::uint32_t up = detail::ordinal_upcase(c);
            CAPTURE(c);
            CHECK(detail::ordinal_upcase(up) == up);
        }
    }

    TEST_CASE("parent, filename, components and join") {
        auto p = Path::parse("C:\\a\\b", PathStyle::windows).value();
        CHECK(p.parent().str() == "C:\\a");
        CHECK(p.parent().parent().str() == "C:\\");
        CHECK(p.parent().parent().parent().str() == "C:\\");
        CHECK(p.filename() == "b");
        CHECK(p.components().size() == 2);
        CHECK(p.join("c\\..\\d").value().str() == "C:\\a\\b\\d");
        CHECK(p.join("..\\..\\..\\..").value().str() == "C:\\");
        CHECK_FALSE(p.join("x:y").has_value());
        auto u = Path::parse("\\\\srv\\share\\x", PathStyle::windows).value();
        CHECK(u.parent().str() == "\\\\srv\\share\\");
        CHECK(u.parent().is_root());
        CHECK(u.root() == "\\\\srv\\share\\");
        auto q = Path::parse("/a/b", PathStyle::posix).value();
        CHECK(q.parent().str() == "/a");
        CHECK(q.parent().parent().str() == "/");
        CHECK(q.filename() == "b");
        CHECK(q.join("c").value().str() == "/a/b/c");
        CHECK(Path::parse("/", PathStyle::posix).value().join("x").value().str() == "/x");
    }
}

#include <random>
#include <vector>

#include "cordon/detail/path_index.hpp"

TEST_CASE("PathIndex answers exactly as within() against every path, small and large, both styles") {
    std::mt19937 rng(4242);
    auto pick = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    const char* names[] = {"a", "b", "ab", "a-b", "A", "x"};
    auto random_path = [&](PathStyle style) {
        std::string text = style == PathStyle::posix ? "/" : (pick(4) == 0 ? "\\\\srv\\share\\" : "C:\\");
        char sep = style == PathStyle::posix ? '/' : '\\';
        for (int depth = pick(4), i = 0; i < depth; ++i) text += std::string(i ? 1 : 0, sep) + names[pick(6)];
        return Path::parse(text, style).value();
    };
    int answers = 0;
    for (PathStyle style : {PathStyle::posix, PathStyle::windows})
        for (int size : {3, 16, 17, 40, 200}) {
            std::vector<Path> roots;
            for (int i = 0; i < size; ++i) roots.push_back(random_path(style));
            const detail::PathIndex index(roots);
            for (int q = 0; q < 300; ++q) {
                Path p = random_path(style);
                std::size_t first = detail::PathIndex::npos;
                std::vector<std::size_t> below;
                for (std::size_t i = 0; i < roots.size(); ++i) {
                    if (first == detail::PathIndex::npos && within(p, roots[i])) first = i;
                    if (within(roots[i], p)) below.push_back(i);
                }
                CAPTURE(p.str());
                REQUIRE(index.first_covering(p) == first);
                REQUIRE(index.below(p) == below);
                answers += first != detail::PathIndex::npos;
            }
            // another style never matches
            Path other = random_path(style == PathStyle::posix ? PathStyle::windows : PathStyle::posix);
            CHECK(index.first_covering(other) == detail::PathIndex::npos);
            CHECK(index.below(other).empty());
        }
    CHECK(answers > 500);  // the generator must make paths that lie within others
}
