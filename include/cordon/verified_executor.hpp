// SPDX-License-Identifier: MIT
// cordon: an executor file that was opened, hashed and matched to a pin, held open until it is launched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "cordon/arch.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/executor.hpp"
#include "cordon/pins.hpp"
#include "cordon/verification_cache.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h>  // close
#endif

namespace cordon {

class VerifiedExecutor;
namespace detail {
CORDON_FUNC Result<VerifiedExecutor> verify_executor_pins(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                          const ExecutorPin* pins, std::size_t count,
                                                          const VerificationCacheOptions* cache);
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
          real_path_(std::move(other.real_path_)),
          pin_(other.pin_),
          from_cache_(other.from_cache_) {}
    VerifiedExecutor& operator=(VerifiedExecutor&& other) noexcept {
        if (this != &other) {
            close();
            handle_ = std::exchange(other.handle_, invalid_handle());
            path_ = std::move(other.path_);
            launch_path_ = std::move(other.launch_path_);
            real_path_ = std::move(other.real_path_);
            pin_ = other.pin_;
            from_cache_ = other.from_cache_;
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
    /// Whether the digest came from the verification cache (the same unchanged file was hashed
    /// before) rather than from hashing it now. Every other check was made now either way.
    bool verified_from_cache() const noexcept { return from_cache_; }
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

    /// Where the verified file itself lies, symlinks resolved (Linux: from the open descriptor).
    /// Its directory is a trust anchor: the one given (a symlink's, say) could differ from the one
    /// whose writers could replace the executor.
    const std::filesystem::path& real_path() const noexcept { return real_path_; }

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
    friend Result<VerifiedExecutor> detail::verify_executor_pins(const std::filesystem::path&, const ExecutorSpec&,
                                                                 const ExecutorPin*, std::size_t,
                                                                 const VerificationCacheOptions*);
    VerifiedExecutor(native_handle_type h, std::filesystem::path p, std::filesystem::path launch,
                     std::filesystem::path real, const ExecutorPin& pin, bool from_cache) noexcept
        : handle_(h),
          path_(std::move(p)),
          launch_path_(std::move(launch)),
          real_path_(std::move(real)),
          pin_(pin),
          from_cache_(from_cache) {}

    native_handle_type handle_ = invalid_handle();
    std::filesystem::path path_;
    std::filesystem::path launch_path_;
    std::filesystem::path real_path_;
    ExecutorPin pin_{};  // its strings point into the pin table (static storage for executor_pins)
    bool from_cache_ = false;
};

/// Opens `file`, refuses anything but a regular file that only its owner (root or the current
/// user) can write, hashes the opened bytes and matches them to the pin for `spec` (SDK version,
/// OS, arch; empty = any pinned SDK for the host). `spec.explicit_path` is ignored.
/// Errors: unavailable (missing file, no pin for the platform; with the install hint),
/// untrusted_executor (digest mismatch naming path, expected and actual digests; unsafe file;
/// SDK version not pinned), io_error.
inline Result<VerifiedExecutor> verify_executor(const std::filesystem::path& file, const ExecutorSpec& spec = {}) {
    return detail::verify_executor_pins(file, spec, executor_pins.data(), executor_pins.size(), nullptr);
}

/// verify_executor(), skipping the hash when `cache` remembers this very file unchanged since it
/// was last hashed (verification_cache.hpp), and remembering it otherwise. Every other check
/// (regular file, owner, mode, size, pin for the spec) is made either way.
/// Errors: as verify_executor.
inline Result<VerifiedExecutor> verify_executor(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                const VerificationCacheOptions& cache) {
    return detail::verify_executor_pins(file, spec, executor_pins.data(), executor_pins.size(), &cache);
}

/// Resolves (resolve_executor) and verifies (verify_executor) the executor for `spec`; with
/// `cache`, through the verification cache. Errors: as those two functions.
inline Result<VerifiedExecutor> open_trusted_executor(const ExecutorSpec& spec = {},
                                                      const VerificationCacheOptions* cache = nullptr) {
    auto location = resolve_executor(spec);
    if (!location) return location.error();
    return detail::verify_executor_pins(location->path, spec, executor_pins.data(), executor_pins.size(), cache);
}

namespace detail {
/// verify_executor() against another table of pins (tests use their own), optionally cached.
template <class Pins>
Result<VerifiedExecutor> verify_executor_against(const std::filesystem::path& file, const ExecutorSpec& spec,
                                                 const Pins& pins, const VerificationCacheOptions* cache = nullptr) {
    return verify_executor_pins(file, spec, pins.data(), pins.size(), cache);
}
}  // namespace detail

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/verified_executor.hpp"
#endif
