// SPDX-License-Identifier: MIT
// The executor verification cache with real files: a hit skips the hash, and every change to the
// file (content with size and mtime kept, rename-replace, chmod) or to the cache's trustworthiness
// (writable by others, another owner, an open directory) sends verification back to hashing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cordon/detail/sha256.hpp"
#include "cordon/verified_executor.hpp"
#include "support/temp_env.hpp"
#include "support/test_user.hpp"

namespace fs = std::filesystem;
using cordon::ErrorCode;
using cordon::ExecutorPin;
using cordon::VerificationCacheOptions;
using cordon::detail::FileStamp;
using cordon::detail::VerifiedStamp;
using cordon::test::ScopedEnv;
using cordon::test::TempDir;
using cordon::test::write_file;

namespace {

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st;
}

// An executor-like file and a pin table holding exactly its bytes, with a private cache beside it.
struct Fixture {
    TempDir dir{"cordon-vcache"};
    fs::path exe = dir / "bin" / "lxc-exec";
    VerificationCacheOptions cache{true, dir / "cache" / "cordon" / "verified-executors"};
    std::string bytes;
    std::vector<ExecutorPin> pins;
    std::string sha;
    ScopedEnv env;

    explicit Fixture(std::string content = "#!/bin/sh\necho verified\n" + std::string(4096, 'x')) : bytes(content) {
        env.unset("CORDON_VERIFY_CACHE");
        write_file(exe, bytes, 0755);
        sha = cordon::detail::to_hex(cordon::detail::sha256_of_bytes(bytes).value());
        pins.push_back(ExecutorPin{"9.9.9", cordon::host_os(), cordon::host_arch().value(), "lxc-exec", sha,
                                   static_cast<std::uint64_t>(bytes.size())});
    }

    cordon::Result<cordon::VerifiedExecutor> verify(const VerificationCacheOptions* options) {
        return cordon::detail::verify_executor_against(exe, {}, pins, options);
    }
    // Verified, and whether the cache answered.
    bool verified_from_cache() {
        auto v = verify(&cache);
        REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().to_string()));
        CHECK(v->sha256() == sha);
        return v->verified_from_cache();
    }
    // Waits until the file's last change is old enough to be remembered (detail::stamp_settled).
    void settle() {
        const FileStamp s = cordon::detail::stamp_of(stat_of(exe));
        while (!cordon::detail::stamp_settled(s, cordon::detail::realtime_ns()))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Verified once by hashing, then answered by the cache.
    void prime() {
        settle();
        REQUIRE_FALSE(verified_from_cache());
        REQUIRE(verified_from_cache());
    }
    std::vector<VerifiedStamp> entries() const { return cordon::detail::read_verification_cache(cache.file); }
};

// Same length, one byte different.
std::string flipped(std::string s) {
    s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 1);
    return s;
}

// Rewrites the file in place (same inode, same size) and sets its mtime back to what it was.
void rewrite_keeping_size_and_mtime(const fs::path& file, const std::string& bytes) {
    struct stat before = stat_of(file);
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    REQUIRE(::futimens(fd, times) == 0);
    ::close(fd);
    struct stat after = stat_of(file);
    REQUIRE(after.st_ino == before.st_ino);
    REQUIRE(after.st_size == before.st_size);
    REQUIRE(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    REQUIRE(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

}  // namespace

TEST_SUITE("verification-cache") {
    TEST_CASE("a settled file is hashed once, remembered privately, then answered from the cache") {
        Fixture f;
        f.settle();
        CHECK_FALSE(f.verified_from_cache());
        struct stat st = stat_of(f.cache.file);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(st.st_uid == ::geteuid());
        CHECK((stat_of(f.cache.file.parent_path()).st_mode & 0777) == 0700);
        REQUIRE(f.entries().size() == 1);
        CHECK(f.entries()[0].sha256 == f.sha);
        CHECK(f.verified_from_cache());
        CHECK(f.verified_from_cache());
        // without the cache the same file is hashed, and the launch path is the descriptor either way
        auto plain = f.verify(nullptr);
        REQUIRE(plain.has_value());
        CHECK_FALSE(plain->verified_from_cache());
        auto cached = f.verify(&f.cache);
        REQUIRE(cached.has_value());
        CHECK(cached->launch_path().string().rfind("/proc/self/fd/", 0) == 0);
    }

    TEST_CASE("a file changed a moment ago is hashed every time and not remembered") {
        Fixture f;  // just written: a further change could keep its ctime
        CHECK_FALSE(f.verified_from_cache());
        CHECK_FALSE(f.verified_from_cache());
        CHECK(f.entries().empty());
    }

    TEST_CASE("new content with the same size and mtime moves ctime: hashed again, and refused") {
        Fixture f;
        f.prime();
        const auto ctime_before = stat_of(f.exe).st_ctim;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // more than one timestamp tick
        rewrite_keeping_size_and_mtime(f.exe, flipped(f.bytes));
        const auto ctime_after = stat_of(f.exe).st_ctim;
        CHECK((ctime_after.tv_sec != ctime_before.tv_sec || ctime_after.tv_nsec != ctime_before.tv_nsec));
        auto v = f.verify(&f.cache);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        CHECK(v.error().message.find("SHA-256 mismatch") != std::string::npos);
        // the same bytes written back: a new stamp again, so hashed (and accepted), not looked up
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rewrite_keeping_size_and_mtime(f.exe, f.bytes);
        CHECK_FALSE(f.verified_from_cache());
    }

    TEST_CASE("a file renamed over the path is another inode: hashed, and refused if different") {
        Fixture f;
        f.prime();
        write_file(f.dir / "bin" / "same", f.bytes, 0755);
        fs::rename(f.dir / "bin" / "same", f.exe);
        CHECK_FALSE(f.verified_from_cache());
        write_file(f.dir / "bin" / "other", flipped(f.bytes), 0755);
        fs::rename(f.dir / "bin" / "other", f.exe);
        auto v = f.verify(&f.cache);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
    }

    TEST_CASE("chmod moves ctime: hashed again") {
        Fixture f;
        f.prime();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        REQUIRE(::chmod(f.exe.c_str(), 0700) == 0);
        REQUIRE(::chmod(f.exe.c_str(), 0755) == 0);
        CHECK_FALSE(f.verified_from_cache());
    }

    TEST_CASE("a cache file others could have written is ignored, then replaced by a private one") {
        for (mode_t mode : {mode_t{0666}, mode_t{0620}, mode_t{0602}}) {
            CAPTURE(mode);
            Fixture f;
            f.prime();
            REQUIRE(::chmod(f.cache.file.c_str(), mode) == 0);
            CHECK(f.entries().empty());
            CHECK_FALSE(f.verified_from_cache());
            CHECK((stat_of(f.cache.file).st_mode & 0777) == 0600);  // rewritten, ours alone
            CHECK(f.verified_from_cache());
        }
    }

    TEST_CASE("a cache file with a second name is ignored") {
        Fixture f;
        f.prime();
        REQUIRE(::link(f.cache.file.c_str(), (f.dir / "second-name").c_str()) == 0);
        CHECK(f.entries().empty());
        CHECK_FALSE(f.verified_from_cache());
    }

    TEST_CASE("a cache file owned by another user is ignored") {
        if (::geteuid() != 0) {
            MESSAGE("skipped: only root can give the cache file to another user");
            return;
        }
        std::string why;
        auto other = cordon::test::test_user("cordon-test", &why);
        REQUIRE_MESSAGE(other.has_value(), why);
        Fixture f;
        f.prime();
        REQUIRE(::chown(f.cache.file.c_str(), other->uid, other->gid) == 0);
        CHECK(f.entries().empty());
        CHECK_FALSE(f.verified_from_cache());
    }

    TEST_CASE("a cache in a directory others can write is neither read nor written") {
        Fixture f;
        f.prime();
        const fs::path cache_dir = f.cache.file.parent_path();
        REQUIRE(::chmod(cache_dir.c_str(), 0777) == 0);
        CHECK(f.entries().empty());
        CHECK_FALSE(f.verified_from_cache());
        fs::remove(f.cache.file);
        CHECK_FALSE(f.verified_from_cache());
        CHECK_FALSE(fs::exists(f.cache.file));  // not written where someone else could swap it
        // an ancestor that others can write (not sticky) disqualifies it as well
        REQUIRE(::chmod(cache_dir.c_str(), 0700) == 0);
        CHECK_FALSE(f.verified_from_cache());
        REQUIRE(f.verified_from_cache());
        REQUIRE(::chmod(cache_dir.parent_path().c_str(), 0757) == 0);
        CHECK_FALSE(f.verified_from_cache());
        REQUIRE(::chmod(cache_dir.parent_path().c_str(), 01757) == 0);  // sticky: others cannot replace ours
        CHECK(f.verified_from_cache());
    }

    TEST_CASE("a malformed cache is ignored and rewritten") {
        Fixture f;
        f.settle();
        write_file(f.cache.file, "cordon-verified-executors 1\nnot an entry\n", 0600);
        CHECK(f.entries().empty());
        CHECK_FALSE(f.verified_from_cache());
        CHECK(f.entries().size() == 1);
        CHECK(f.verified_from_cache());
    }

    TEST_CASE("off: options.enabled = false or CORDON_VERIFY_CACHE=off hash every time and write nothing") {
        Fixture f;
        f.settle();
        VerificationCacheOptions off = f.cache;
        off.enabled = false;
        CHECK_FALSE(f.verify(&off)->verified_from_cache());
        CHECK_FALSE(fs::exists(f.cache.file));
        f.prime();
        CHECK_FALSE(f.verify(&off)->verified_from_cache());
        for (const char* value : {"off", "0", "no", "false", "of"}) {
            CAPTURE(value);
            ScopedEnv env;
            env.set("CORDON_VERIFY_CACHE", std::string(value));
            CHECK_FALSE(f.verified_from_cache());
        }
        ScopedEnv env;
        env.set("CORDON_VERIFY_CACHE", std::string("on"));
        CHECK(f.verified_from_cache());
    }

    TEST_CASE("a remembered digest today's pins do not accept is decided by hashing") {
        Fixture f;
        f.prime();
        ExecutorPin other = f.pins[0];
        other.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
        std::vector<ExecutorPin> pins{other};
        auto v = cordon::detail::verify_executor_against(f.exe, {}, pins, &f.cache);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::untrusted_executor);
        CHECK(v.error().message.find("actual " + f.sha) != std::string::npos);  // hashed now
    }

    TEST_CASE("the cache holds one entry per inode, newest first, at most verification_cache_entries") {
        TempDir dir{"cordon-vcache"};
        const fs::path file = dir / "c" / "verified-executors";
        std::vector<VerifiedStamp> entries;
        for (std::uint64_t i = 1; i <= cordon::detail::verification_cache_entries + 4; ++i) {
            VerifiedStamp e{FileStamp{7, i, 100, 1, 2, 0, 0100755}, std::string(64, 'a')};
            cordon::detail::remember_verification(file, entries, e);
            entries = cordon::detail::read_verification_cache(file);
            REQUIRE(!entries.empty());
            CHECK(entries[0].stamp.inode == i);
        }
        CHECK(entries.size() == cordon::detail::verification_cache_entries);
        VerifiedStamp again{FileStamp{7, 12, 100, 5, 6, 0, 0100755}, std::string(64, 'b')};
        cordon::detail::remember_verification(file, entries, again);
        entries = cordon::detail::read_verification_cache(file);
        std::size_t with_inode_12 = 0;
        for (const auto& e : entries) with_inode_12 += e.stamp.inode == 12;
        CHECK(with_inode_12 == 1);
        CHECK(entries[0].sha256 == std::string(64, 'b'));
    }

    TEST_CASE("cache text: only exactly what cordon writes is read") {
        using cordon::detail::parse_cache_text;
        const std::string sha(64, 'c');
        const std::string good = "cordon-verified-executors 1\n1 2 3 4 5 0 33261 " + sha + "\n";
        CHECK(parse_cache_text(good).size() == 1);
        CHECK(parse_cache_text("cordon-verified-executors 1\n").empty());
        for (const std::string& bad :
             {std::string("cordon-verified-executors 2\n1 2 3 4 5 0 33261 ") + sha + "\n",
              "cordon-verified-executors 1\n01 2 3 4 5 0 33261 " + sha + "\n",
              "cordon-verified-executors 1\n1  2 3 4 5 0 33261 " + sha + "\n",
              "cordon-verified-executors 1\n1 2 3 4 5 0 33261 " + sha,
              "cordon-verified-executors 1\n1 2 3 4 5 0 33261 " + std::string(64, 'C') + "\n",
              "cordon-verified-executors 1\n1 2 3 4 5 0 33261 " + sha + " extra\n",
              "cordon-verified-executors 1\n-1 2 3 4 5 0 33261 " + sha + "\n"})
            CHECK(parse_cache_text(bad).empty());
    }
}
