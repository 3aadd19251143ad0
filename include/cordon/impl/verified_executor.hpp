// SPDX-License-Identifier: MIT
// cordon: implementation of verified_executor.hpp: open, refuse unsafe files, hash, match a pin.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/input_file.hpp"  // open_file_path
#include "cordon/detail/sha256.hpp"
#include "cordon/impl/verification_cache.hpp"
#include "cordon/verified_executor.hpp"

namespace cordon {

namespace detail {

// Closes a native handle on scope exit unless released.
struct HandleGuard {
    VerifiedExecutor::native_handle_type h;
    ~HandleGuard() {
        if (h == VerifiedExecutor::invalid_handle()) return;
#if defined(_WIN32)
        ::CloseHandle(h);
#else
        ::close(h);
#endif
    }
    VerifiedExecutor::native_handle_type release() noexcept { return std::exchange(h, VerifiedExecutor::invalid_handle()); }
};

// Where a launcher should start the file behind `h` (see VerifiedExecutor::launch_path()).
inline std::filesystem::path launch_path_of(VerifiedExecutor::native_handle_type h, const std::filesystem::path& path) {
#if defined(_WIN32)
    std::wstring final(32768, L'\0');
    DWORD n = ::GetFinalPathNameByHandleW(h, final.data(), static_cast<DWORD>(final.size()),
                                          FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (n == 0 || n >= final.size()) return path;
    final.resize(n);
    // "\\?\C:\x" -> "C:\x" and "\\?\UNC\srv\x" -> "\\srv\x" while short enough for every API.
    if (final.size() < MAX_PATH + 4) {
        if (final.compare(0, 8, L"\\\\?\\UNC\\") == 0) final = L"\\" + final.substr(7);
        else if (final.compare(0, 4, L"\\\\?\\") == 0) final = final.substr(4);
    }
    return std::filesystem::path(final);
#elif defined(__linux__)
    (void)path;
    return "/proc/self/fd/" + std::to_string(h);
#else
    (void)h;
    return path;
#endif
}

// Where the file behind `h` lies (see VerifiedExecutor::real_path()).
inline std::filesystem::path real_path_of(VerifiedExecutor::native_handle_type h, const std::filesystem::path& launch,
                                          const std::filesystem::path& path) {
    std::error_code ec;
#if defined(_WIN32)
    (void)h;
    (void)path;
    return launch;  // already the final path of the open handle
#elif defined(__linux__)
    (void)launch;
    if (std::string named = open_file_path(h); !named.empty()) return named;
    auto real = std::filesystem::canonical("/proc/self/fd/" + std::to_string(h), ec);
    if (!ec) return real;
    return std::filesystem::canonical(path, ec);
#else
    (void)h;
    (void)launch;
    return std::filesystem::canonical(path, ec);
#endif
}

inline std::string describe_pin(const ExecutorPin& p) {
    return std::string(p.file) + " of SDK " + std::string(p.sdk_version) + ", " + std::string(p.os) + "/" +
           std::string(to_string(p.arch));
}

// What opening the executor told: its size and (POSIX) the stamp the verification cache keys on.
struct OpenedExecutor {
    std::uint64_t size = 0;
    FileStamp stamp;
};

#if defined(_WIN32)
inline Result<OpenedExecutor> open_executor_file(const std::filesystem::path& path, const ResolvedTarget& target,
                                                 const std::string& where, HandleGuard& guard) {
    // No FILE_SHARE_WRITE / FILE_SHARE_DELETE: while we hold this handle nobody can open the
    // file for writing, rename it or delete it, and opening fails if somebody already writes it.
    HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                             FILE_ATTRIBUTE_NORMAL | FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = ::GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return make_error(ErrorCode::unavailable, "MXC executor not found; " + executor_install_hint(target.os),
                              where);
        if (e == ERROR_SHARING_VIOLATION)
            return make_error(ErrorCode::untrusted_executor,
                              "executor is open for writing or deletion by another process; refusing it", where);
        return make_error(ErrorCode::io_error, "cannot open executor (Windows error " + std::to_string(e) + ")", where);
    }
    guard.h = h;
    BY_HANDLE_FILE_INFORMATION info{};
    if (::GetFileType(h) != FILE_TYPE_DISK || !::GetFileInformationByHandle(h, &info) ||
        (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
        return make_error(ErrorCode::untrusted_executor, "executor is not a regular file", where);
    OpenedExecutor out;
    out.size = (std::uint64_t{info.nFileSizeHigh} << 32) | info.nFileSizeLow;
    return out;
}
#else
inline Result<OpenedExecutor> open_executor_file(const std::filesystem::path& path, const ResolvedTarget& target,
                                                 const std::string& where, HandleGuard& guard) {
    // O_NONBLOCK: opening a FIFO planted at the path must not hang; it is refused below.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return make_error(ErrorCode::unavailable, "MXC executor not found; " + executor_install_hint(target.os),
                              where);
        return make_error(ErrorCode::io_error, std::string("cannot open executor: ") + std::strerror(e), where);
    }
    guard.h = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return make_error(ErrorCode::io_error, std::string("cannot stat executor: ") + std::strerror(errno), where);
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::untrusted_executor, "executor is not a regular file", where);
    // The descriptor pins the inode, not its contents: anyone who may write the inode could
    // change the bytes between hashing and exec. Allow only its owner, and only root or us.
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error(ErrorCode::untrusted_executor,
                          "executor is writable by its group or by others, who could rewrite the verified bytes "
                          "before launch; run 'chmod go-w' on it",
                          where);
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return make_error(ErrorCode::untrusted_executor,
                          "executor is owned by uid " + std::to_string(st.st_uid) +
                              ", neither root nor the current user, who could rewrite it before launch",
                          where);
    return OpenedExecutor{static_cast<std::uint64_t>(st.st_size), stamp_of(st)};
}
#endif

struct PinRange {
    const ExecutorPin* first;
    const ExecutorPin* last;
    const ExecutorPin* begin() const { return first; }
    const ExecutorPin* end() const { return last; }
};

// The pins the file may match: this platform, and the requested SDK version if one was named.
inline Result<std::vector<const ExecutorPin*>> candidate_pins(const PinRange& pins, const ResolvedTarget& target,
                                                              const ExecutorSpec& spec, const std::string& where) {
    std::vector<const ExecutorPin*> candidates;
    bool platform_pinned = false;
    for (const ExecutorPin& p : pins) {
        if (p.os != target.os || p.arch != target.arch) continue;
        platform_pinned = true;
        if (spec.sdk_version.empty() || p.sdk_version == spec.sdk_version) candidates.push_back(&p);
    }
    const std::string platform = target.os + "/" + std::string(to_string(target.arch));
    if (!platform_pinned) return make_error(ErrorCode::unavailable, "cordon pins no MXC executor for " + platform, where);
    if (!candidates.empty()) return candidates;
    std::string pinned;
    for (const ExecutorPin& p : pins)
        if (p.os == target.os && p.arch == target.arch) pinned += (pinned.empty() ? "" : ", ") + std::string(p.sdk_version);
    const SdkRelease* r = find_sdk_release(spec.sdk_version);
    std::string why =
        r != nullptr && r->tarball_sha256.empty() ? " (its executors accept none of cordon's config contracts)" : "";
    return make_error(ErrorCode::untrusted_executor,
                      "cordon pins no " + platform + " executor of SDK version '" + spec.sdk_version + "'" + why +
                          "; pinned versions: " + pinned,
                      where);
}

inline const ExecutorPin* matching_pin(const std::vector<const ExecutorPin*>& candidates, std::string_view sha256,
                                       std::uint64_t size) {
    for (const ExecutorPin* p : candidates)
        if (p->sha256 == sha256 && p->size == size) return p;
    return nullptr;
}

// The cache's side of a verification: a hit is only a digest to match against today's pins.
struct CacheUse {
    std::filesystem::path file;  // empty: no cache
    std::vector<VerifiedStamp> entries;
};

inline CacheUse open_cache(const VerificationCacheOptions* options) {
    CacheUse use;
    if (options) use.file = effective_cache_file(*options);
    if (!use.file.empty()) use.entries = read_verification_cache(use.file);
    return use;
}

// After a successful hash: remember it, unless the file changed while it was hashed or changed so
// recently that a further change could leave its stamp as it is (stamp_settled).
inline void remember_hash(const CacheUse& cache, VerifiedExecutor::native_handle_type h, const FileStamp& before,
                          std::int64_t hash_start_ns, const ExecutorPin& pin) {
#if defined(_WIN32)
    (void)cache, (void)h, (void)before, (void)hash_start_ns, (void)pin;
#else
    struct stat st {};
    if (cache.file.empty() || ::fstat(h, &st) != 0 || stamp_of(st) != before || !stamp_settled(before, hash_start_ns))
        return;
    remember_verification(cache.file, cache.entries, VerifiedStamp{before, std::string(pin.sha256)});
#endif
}

inline std::int64_t hash_clock_ns() {
#if defined(_WIN32)
    return 0;
#else
    return realtime_ns();
#endif
}

CORDON_FUNC Result<VerifiedExecutor> verify_executor_pins(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                          const ExecutorPin* pin_table, std::size_t pin_count,
                                                          const VerificationCacheOptions* cache_options) {
    const PinRange pins{pin_table, pin_table + pin_count};
    try {
        auto target = detail::resolve_target(spec);
        if (!target) return target.error();
        const std::filesystem::path path = detail::absolute_or_same(file);
        const std::string where = path.string();
        detail::HandleGuard guard{VerifiedExecutor::invalid_handle()};
        auto opened = open_executor_file(path, *target, where, guard);
        if (!opened) return opened.error();
        auto candidates = candidate_pins(pins, *target, spec, where);
        if (!candidates) return candidates.error();
        auto verified = [&](const ExecutorPin& pin, bool from_cache) -> Result<VerifiedExecutor> {
            std::filesystem::path launch = launch_path_of(guard.h, path);
            std::filesystem::path real = real_path_of(guard.h, launch, path);
            if (real.empty()) return make_error(ErrorCode::io_error, "cannot resolve the executor's own path", where);
            return VerifiedExecutor(guard.release(), path, std::move(launch), std::move(real), pin, from_cache);
        };

        std::string expected;
        for (const ExecutorPin* p : *candidates)
            expected += (expected.empty() ? "" : ", ") + std::string(p->sha256) + " (" + detail::describe_pin(*p) + ")";
        if (opened->size > max_executor_bytes)
            return make_error(ErrorCode::untrusted_executor,
                              "SHA-256 mismatch: the file has " + std::to_string(opened->size) +
                                  " bytes, more than any pinned executor (not hashed); expected " + expected,
                              where);

        // A hit counts only if today's pins still accept the remembered digest; anything else is
        // decided by hashing, so the cache can skip work but never refuse or explain.
        const CacheUse cache = open_cache(cache_options);
        if (auto digest = cached_digest(cache.entries, opened->stamp))
            if (const ExecutorPin* p = matching_pin(*candidates, *digest, opened->size))
                return verified(*p, true);

        const std::int64_t hash_start = hash_clock_ns();
        std::uint64_t hashed = 0;
        auto digest = detail::sha256_of_file(guard.h, &hashed, where);
        if (!digest) return digest.error();
        const std::string actual = detail::to_hex(*digest);
        if (const ExecutorPin* p = matching_pin(*candidates, actual, hashed)) {
            remember_hash(cache, guard.h, opened->stamp, hash_start, *p);
            return verified(*p, false);
        }
        std::string known_as;  // say what the file is, when it is some other pinned executor
        for (const ExecutorPin& p : pins)
            if (p.sha256 == actual) known_as = " (the file is the " + detail::describe_pin(p) + ")";
        return make_error(ErrorCode::untrusted_executor,
                          "SHA-256 mismatch: expected " + expected + ", actual " + actual + known_as, where);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("verifying the MXC executor failed: ") + e.what(),
                          file.string());
    }
}

}  // namespace detail

}  // namespace cordon
