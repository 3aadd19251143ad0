// SPDX-License-Identifier: MIT
// cordon-bench sha256: throughput of the executor verification hash (detail::sha256_of_file) on a file.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "benchmarks.hpp"
#include "cordon/detail/sha256.hpp"

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#include <cryptopp/cpu.h>
#endif

namespace cordon::bench {

namespace {

// Whether Crypto++ found the CPU's SHA-256 instructions (it picks them itself at run time).
bool crypto_pp_uses_sha_instructions() {
#if defined(__x86_64__) || defined(__i386__)
    return CryptoPP::HasSHA();
#elif defined(__aarch64__)
    return CryptoPP::HasSHA2();
#else
    return false;
#endif
}

std::string json_escaped(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    return out;
}

}  // namespace

int run_sha256(const Args& args) {
    std::string file;
    long iterations = 5;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--iterations" && i + 1 < args.size()) {
            iterations = std::stol(std::string(args[++i]));
        } else if (file.empty() && !args[i].empty() && args[i][0] != '-') {
            file = std::string(args[i]);
        } else {
            std::cerr << "usage: cordon-bench sha256 FILE [--iterations N]\n";
            return 2;
        }
    }
    if (file.empty() || iterations < 1) {
        std::cerr << "usage: cordon-bench sha256 FILE [--iterations N]\n";
        return 2;
    }

    std::vector<double> mb_s;
    std::string digest;
    std::uint64_t bytes = 0;
    for (long it = 0; it < iterations; ++it) {
        // Timed like verification: open, hash through the descriptor, close.
        auto start = std::chrono::steady_clock::now();
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            std::perror(file.c_str());
            return 1;
        }
        auto d = detail::sha256_of_file(fd, &bytes, file);
        ::close(fd);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!d) {
            std::cerr << d.error().to_string() << "\n";
            return 1;
        }
        digest = detail::to_hex(*d);
        mb_s.push_back(static_cast<double>(bytes) / 1e6 / seconds);
    }
    std::vector<double> sorted = mb_s;
    std::sort(sorted.begin(), sorted.end());
    std::printf(
        "{\"benchmark\":\"sha256\",\"implementation\":\"crypto++\",\"sha_instructions\":%s,\"file\":\"%s\","
        "\"bytes\":%llu,\"read_size\":%zu,\"iterations\":%ld,\"best_mb_s\":%.1f,\"median_mb_s\":%.1f,"
        "\"sha256\":\"%s\"}\n",
        crypto_pp_uses_sha_instructions() ? "true" : "false", json_escaped(file).c_str(), static_cast<unsigned long long>(bytes),
        detail::sha256_read_size, iterations, sorted.back(), sorted[sorted.size() / 2], digest.c_str());
    return 0;
}

}  // namespace cordon::bench
