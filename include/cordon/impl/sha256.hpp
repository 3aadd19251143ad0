// SPDX-License-Identifier: MIT
// cordon: implementation of detail/sha256.hpp (Crypto++ on POSIX, Windows CNG on Windows).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#if defined(_WIN32)
// Debian has no mingw Crypto++ and MSVC users rarely have one; CNG ships with every Windows
// since Vista and is what the OS itself trusts (docs/executor-trust.md). Link bcrypt.lib.
#include <windows.h>
#include <bcrypt.h>
#if defined(_MSC_VER)
#pragma comment(lib, "bcrypt.lib")
#endif
#else
#include <cerrno>
#include <cstring>  // std::strerror

#include <unistd.h>  // pread

#include <cryptopp/sha.h>
#endif

#include "cordon/detail/sha256.hpp"

namespace cordon::detail {

#if defined(_WIN32)

/// Incremental SHA-256 with CNG. Errors (only if CNG itself fails): internal.
class Sha256 {
public:
    Sha256() {
        status_ = ::BCryptOpenAlgorithmProvider(&alg_, BCRYPT_SHA256_ALGORITHM, nullptr, 0);
        if (BCRYPT_SUCCESS(status_)) status_ = ::BCryptCreateHash(alg_, &hash_, nullptr, 0, nullptr, 0, 0);
    }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256() {
        if (hash_ != nullptr) ::BCryptDestroyHash(hash_);
        if (alg_ != nullptr) ::BCryptCloseAlgorithmProvider(alg_, 0);
    }

    void update(const void* data, std::size_t size) noexcept {
        auto p = static_cast<const unsigned char*>(data);
        while (BCRYPT_SUCCESS(status_) && size > 0) {  // BCryptHashData takes a ULONG length
            ULONG n = size > 0x40000000u ? 0x40000000u : static_cast<ULONG>(size);
            status_ = ::BCryptHashData(hash_, const_cast<PUCHAR>(p), n, 0);
            p += n;
            size -= n;
        }
    }

    Result<Sha256Digest> finish() {
        Sha256Digest d{};
        if (BCRYPT_SUCCESS(status_)) status_ = ::BCryptFinishHash(hash_, d.data(), static_cast<ULONG>(d.size()), 0);
        if (!BCRYPT_SUCCESS(status_))
            return make_error(ErrorCode::internal, "Windows CNG SHA-256 failed (NTSTATUS " +
                                                       std::to_string(static_cast<unsigned long>(status_)) + ")");
        return d;
    }

private:
    BCRYPT_ALG_HANDLE alg_ = nullptr;
    BCRYPT_HASH_HANDLE hash_ = nullptr;
    NTSTATUS status_ = 0;
};

CORDON_FUNC Result<Sha256Digest> sha256_of_file(NativeFile file, std::uint64_t* bytes_hashed, const std::string& where) {
    std::unique_ptr<unsigned char[]> buffer(new unsigned char[sha256_read_size]);
    Sha256 h;
    std::uint64_t offset = 0;
    for (;;) {
        OVERLAPPED at{};  // on a synchronous handle, an explicit offset for this one read
        at.Offset = static_cast<DWORD>(offset & 0xFFFFFFFFu);
        at.OffsetHigh = static_cast<DWORD>(offset >> 32);
        DWORD got = 0;
        if (!::ReadFile(file, buffer.get(), static_cast<DWORD>(sha256_read_size), &got, &at)) {
            DWORD e = ::GetLastError();
            if (e == ERROR_HANDLE_EOF) break;
            return make_error(ErrorCode::io_error, "cannot read executor (Windows error " + std::to_string(e) + ")", where);
        }
        if (got == 0) break;
        h.update(buffer.get(), got);
        offset += got;
    }
    if (bytes_hashed != nullptr) *bytes_hashed = offset;
    return h.finish();
}

#else

/// Incremental SHA-256 with Crypto++, which picks SHA-NI / ARMv8 SHA instructions itself at run time.
class Sha256 {
public:
    void update(const void* data, std::size_t size) noexcept {
        h_.Update(static_cast<const CryptoPP::byte*>(data), size);
    }
    Result<Sha256Digest> finish() {
        Sha256Digest d{};
        h_.Final(d.data());
        return d;
    }

private:
    CryptoPP::SHA256 h_;
};

CORDON_FUNC Result<Sha256Digest> sha256_of_file(NativeFile fd, std::uint64_t* bytes_hashed, const std::string& where) {
    std::unique_ptr<unsigned char[]> buffer(new unsigned char[sha256_read_size]);
    Sha256 h;
    std::uint64_t offset = 0;
    for (;;) {
        ssize_t got = ::pread(fd, buffer.get(), sha256_read_size, static_cast<off_t>(offset));
        if (got < 0) {
            if (errno == EINTR) continue;
            return make_error(ErrorCode::io_error, std::string("cannot read executor: ") + std::strerror(errno), where);
        }
        if (got == 0) break;
        h.update(buffer.get(), static_cast<std::size_t>(got));
        offset += static_cast<std::uint64_t>(got);
    }
    if (bytes_hashed != nullptr) *bytes_hashed = offset;
    return h.finish();
}

#endif

CORDON_FUNC Result<Sha256Digest> sha256_of_bytes(std::string_view bytes) {
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.finish();
}

}  // namespace cordon::detail
