// SPDX-License-Identifier: MIT
// cordon: RFC 4648 base64 (standard alphabet, padded), for --config-base64 and binary output on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cordon::detail {

/// The length of base64_encode(in) for `size` input bytes.
constexpr std::size_t base64_size(std::size_t size) noexcept { return (size + 2) / 3 * 4; }

/// Writes base64_size(in.size()) characters to `out`, which must have room for them.
inline char* base64_encode_to(char* out, std::string_view in) noexcept {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        std::uint32_t n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                          std::uint8_t(in[i + 2]);
        *out++ = alphabet[(n >> 18) & 63];
        *out++ = alphabet[(n >> 12) & 63];
        *out++ = alphabet[(n >> 6) & 63];
        *out++ = alphabet[n & 63];
    }
    if (i < in.size()) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (i + 1 < in.size()) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        *out++ = alphabet[(n >> 18) & 63];
        *out++ = alphabet[(n >> 12) & 63];
        *out++ = i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
        *out++ = '=';
    }
    return out;
}

inline std::string base64_encode(std::string_view in) {
    std::string out(base64_size(in.size()), '\0');
    base64_encode_to(out.data(), in);
    return out;
}

/// Strict decoding: only the standard alphabet, length a multiple of 4, padding only at the end.
inline std::optional<std::string> base64_decode(std::string_view in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        bool last = i + 4 == in.size();
        int pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
        std::uint32_t n = 0;
        for (int k = 0; k < 4; ++k) {
            int v = k >= 4 - pad ? 0 : value(in[i + static_cast<std::size_t>(k)]);
            if (v < 0) return std::nullopt;
            n = (n << 6) | static_cast<std::uint32_t>(v);
        }
        out += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1) out += static_cast<char>(n & 0xFF);
    }
    return out;
}

}  // namespace cordon::detail
