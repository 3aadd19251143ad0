// SPDX-License-Identifier: MIT
// cordon: streaming SHA-256 of bytes and of an open file (Crypto++ on POSIX, Windows CNG on Windows).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

using Sha256Digest = std::array<std::uint8_t, 32>;

/// Lower-case hex of a digest.
inline std::string to_hex(const Sha256Digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(64, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 0xF];
    }
    return out;
}

/// Read size for file hashing: large enough that syscalls are noise next to hashing (bench/sha256.cpp).
inline constexpr std::size_t sha256_read_size = std::size_t{1} << 20;

#if defined(_WIN32)
using NativeFile = void*;  // HANDLE, without <windows.h>
#else
using NativeFile = int;
#endif

/// SHA-256 of the whole file behind an open descriptor (Windows: handle), read from offset 0 with
/// positioned reads (the descriptor's offset is neither used nor moved). `where` names the file in
/// errors. Errors: io_error, internal (only if Windows CNG itself fails).
CORDON_FUNC Result<Sha256Digest> sha256_of_file(NativeFile file, std::uint64_t* bytes_hashed, const std::string& where);

/// SHA-256 of a byte string (tests, small inputs).
CORDON_FUNC Result<Sha256Digest> sha256_of_bytes(std::string_view bytes);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/sha256.hpp"
#endif
