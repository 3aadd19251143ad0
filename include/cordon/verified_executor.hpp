// SPDX-License-Identifier: MIT
// cordon: an executor file that was opened, hashed and matched to a pin, held open until it is launched.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/arch.hpp"
#include "cordon/config.hpp"
#include "cordon/detail/sha256.hpp"
#include "cordon/error.hpp"
#include "cordon/executor.hpp"
#include "cordon/pins.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace cordon {

class VerifiedExecutor;
namespace detail {
template <class Pins>
Result<VerifiedExecutor> verify_executor_against(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                 const Pins& pins);
}  // namespace detail

/// Files larger than this are refused without hashing: no pinned executor comes close.
inline constexpr std::uint64_t max_executor_bytes = std::uint64_t{256} << 20;

/// A verified executor: owns the open file whose bytes matched a pin, so the bytes launched are the
/// bytes verified. Linux: launch `fd()` (execveat/fexecve) or `launch_path()` (`/proc/self/fd/N`);
/// renaming or replacing the file afterwards changes nothing. Windows: the handle denies writers
/// and deletion (share mode FILE_SHARE_READ) until this object is destroyed, so keep it alive until
/// CreateProcessW returned. Move-only. See docs/executor-trust.md for each platform's guarantee.
class VerifiedExecutor {
public:
#if defined(_WIN32)
    using native_handle_type = HANDLE;
    static native_handle_type invalid_handle() noexcept { return INVALID_HANDLE_VALUE; }
#else
    using native_handle_type = int;
    static constexpr native_handle_type invalid_handle() noexcept { return -1; }
#endif

    VerifiedExecutor(VerifiedExecutor&& other) noexcept
        : handle_(std::exchange(other.handle_, invalid_handle())),
          path_(std::move(other.path_)),
          launch_path_(std::move(other.launch_path_)),
          pin_(other.pin_) {}
    VerifiedExecutor& operator=(VerifiedExecutor&& other) noexcept {
        if (this != &other) {
            close();
            handle_ = std::exchange(other.handle_, invalid_handle());
            path_ = std::move(other.path_);
            launch_path_ = std::move(other.launch_path_);
            pin_ = other.pin_;
        }
        return *this;
    }
    VerifiedExecutor(const VerifiedExecutor&) = delete;
    VerifiedExecutor& operator=(const VerifiedExecutor&) = delete;
    ~VerifiedExecutor() { close(); }

    /// The absolute path the executor was opened from (for messages; never re-opened on Linux).
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The pin the bytes matched: SDK version, OS, arch, file name, digest, size.
    const ExecutorPin& pin() const noexcept { return pin_; }
    std::string_view sdk_version() const noexcept { return pin_.sdk_version; }
    /// Lower-case hex SHA-256 of the verified bytes (equal to the pin's).
    std::string_view sha256() const noexcept { return pin_.sha256; }
    /// Whether this object still holds the file (false after close() or a move).
    bool is_open() const noexcept { return handle_ != invalid_handle(); }

    /// The open descriptor (O_RDONLY|O_CLOEXEC) or Windows handle (GENERIC_READ, FILE_SHARE_READ).
    native_handle_type native_handle() const noexcept { return handle_; }

#if !defined(_WIN32)
    /// The descriptor of the verified bytes, for execveat(fd, "", ..., AT_EMPTY_PATH) / fexecve.
    int fd() const noexcept { return handle_; }
#endif

    /// What to pass to exec/posix_spawn/CreateProcessW. Linux: `/proc/self/fd/N`, the verified
    /// inode (exec works although the descriptor is close-on-exec). Windows: the final path of the
    /// open handle (junctions and symlinks resolved when verified, so retargeting one afterwards
    /// cannot redirect the launch; the file itself is locked by the handle). macOS: the path.
    const std::filesystem::path& launch_path() const noexcept { return launch_path_; }

    /// Releases the file early (the object is then no longer launchable).
    void close() noexcept {
        if (handle_ == invalid_handle()) return;
#if defined(_WIN32)
        ::CloseHandle(handle_);
#else
        ::close(handle_);
#endif
        handle_ = invalid_handle();
    }

private:
    template <class Pins>
    friend Result<VerifiedExecutor> detail::verify_executor_against(const std::filesystem::path&, const ExecutorSpec&,
                                                                    const Pins&);
    VerifiedExecutor(native_handle_type h, std::filesystem::path p, std::filesystem::path launch,
                     const ExecutorPin& pin) noexcept
        : handle_(h), path_(std::move(p)), launch_path_(std::move(launch)), pin_(pin) {}

    native_handle_type handle_ = invalid_handle();
    std::filesystem::path path_;
    std::filesystem::path launch_path_;
    ExecutorPin pin_{};  // its strings point into the pin table (static storage for executor_pins)
};

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

inline std::string describe_pin(const ExecutorPin& p) {
    return std::string(p.file) + " of SDK " + std::string(p.sdk_version) + ", " + std::string(p.os) + "/" +
           std::string(to_string(p.arch));
}

// verify_executor() against any table of pins (tests use their own; everything else executor_pins).
template <class Pins>
Result<VerifiedExecutor> verify_executor_against(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                 const Pins& pins) {
    try {
        auto target = detail::resolve_target(spec);
        if (!target) return target.error();
        const std::filesystem::path path = detail::absolute_or_same(file);
        const std::string where = path.string();

#if defined(_WIN32)
        // No FILE_SHARE_WRITE / FILE_SHARE_DELETE: while we hold this handle nobody can open the
        // file for writing, rename it or delete it, and opening fails if somebody already writes it.
        HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                 FILE_ATTRIBUTE_NORMAL | FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
        if (h == INVALID_HANDLE_VALUE) {
            DWORD e = ::GetLastError();
            if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
                return make_error(ErrorCode::unavailable,
                                  "MXC executor not found; " + executor_install_hint(target->os), where);
            if (e == ERROR_SHARING_VIOLATION)
                return make_error(ErrorCode::untrusted_executor,
                                  "executor is open for writing or deletion by another process; refusing it", where);
            return make_error(ErrorCode::io_error, "cannot open executor (Windows error " + std::to_string(e) + ")",
                              where);
        }
        detail::HandleGuard guard{h};
        BY_HANDLE_FILE_INFORMATION info{};
        if (::GetFileType(h) != FILE_TYPE_DISK || !::GetFileInformationByHandle(h, &info) ||
            (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
            return make_error(ErrorCode::untrusted_executor, "executor is not a regular file", where);
        const std::uint64_t size = (std::uint64_t{info.nFileSizeHigh} << 32) | info.nFileSizeLow;
#else
        // O_NONBLOCK: opening a FIFO planted at the path must not hang; it is refused below.
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            if (e == ENOENT || e == ENOTDIR)
                return make_error(ErrorCode::unavailable,
                                  "MXC executor not found; " + executor_install_hint(target->os), where);
            return make_error(ErrorCode::io_error, std::string("cannot open executor: ") + std::strerror(e), where);
        }
        detail::HandleGuard guard{fd};
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
        const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
#endif

        // Candidate pins: this platform, and the requested SDK version if one was named.
        std::vector<const ExecutorPin*> candidates;
        bool platform_pinned = false;
        for (const ExecutorPin& p : pins) {
            if (p.os != target->os || p.arch != target->arch) continue;
            platform_pinned = true;
            if (spec.sdk_version.empty() || p.sdk_version == spec.sdk_version) candidates.push_back(&p);
        }
        const std::string platform = target->os + "/" + std::string(to_string(target->arch));
        if (!platform_pinned)
            return make_error(ErrorCode::unavailable, "cordon pins no MXC executor for " + platform, where);
        if (candidates.empty()) {
            std::string pinned;
            for (const ExecutorPin& p : pins)
                if (p.os == target->os && p.arch == target->arch)
                    pinned += (pinned.empty() ? "" : ", ") + std::string(p.sdk_version);
            const SdkRelease* r = find_sdk_release(spec.sdk_version);
            std::string why = r != nullptr && r->tarball_sha256.empty()
                                  ? " (its executors accept none of cordon's config contracts)"
                                  : "";
            return make_error(ErrorCode::untrusted_executor,
                              "cordon pins no " + platform + " executor of SDK version '" + spec.sdk_version + "'" +
                                  why + "; pinned versions: " + pinned,
                              where);
        }

        std::string expected;
        for (const ExecutorPin* p : candidates)
            expected += (expected.empty() ? "" : ", ") + std::string(p->sha256) + " (" + detail::describe_pin(*p) + ")";
        if (size > max_executor_bytes)
            return make_error(ErrorCode::untrusted_executor,
                              "SHA-256 mismatch: the file has " + std::to_string(size) +
                                  " bytes, more than any pinned executor (not hashed); expected " + expected,
                              where);

        std::uint64_t hashed = 0;
        auto digest = detail::sha256_of_file(guard.h, &hashed, where);
        if (!digest) return digest.error();
        const std::string actual = detail::to_hex(*digest);
        for (const ExecutorPin* p : candidates)
            if (p->sha256 == actual && p->size == hashed) {
                std::filesystem::path launch = launch_path_of(guard.h, path);
                return VerifiedExecutor(guard.release(), path, std::move(launch), *p);
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

/// Opens `file`, refuses anything but a regular file that only its owner (root or the current
/// user) can write, hashes the opened bytes and matches them to the pin for `spec` (SDK version,
/// OS, arch; empty = any pinned SDK for the host). `spec.explicit_path` is ignored.
/// Errors: unavailable (missing file, no pin for the platform; with the install hint),
/// untrusted_executor (digest mismatch naming path, expected and actual digests; unsafe file;
/// SDK version not pinned), io_error.
inline Result<VerifiedExecutor> verify_executor(const std::filesystem::path& file, const ExecutorSpec& spec = {}) {
    return detail::verify_executor_against(file, spec, executor_pins);
}

/// Resolves (resolve_executor) and verifies (verify_executor) the executor for `spec`.
/// Errors: as those two functions.
inline Result<VerifiedExecutor> open_trusted_executor(const ExecutorSpec& spec = {}) {
    auto location = resolve_executor(spec);
    if (!location) return location.error();
    return verify_executor(location->path, spec);
}

}  // namespace cordon
