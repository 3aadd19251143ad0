// SPDX-License-Identifier: MIT
// cordon: implementation of verification_cache.hpp: a small text file of stamps and digests, trusted only when private.
#pragma once

#include <cerrno>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/input_file.hpp"
#include "cordon/detail/output_file.hpp"
#include "cordon/detail/trusted_dirs.hpp"
#include "cordon/verification_cache.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

CORDON_FUNC std::vector<VerifiedStamp> read_verification_cache(const std::filesystem::path& file) {
    try {
        if (file.empty()) return {};
        // anchor: a regular file with one link, writable only by its owner, owned by root or us, in a
        // directory nobody else can replace it in; then: ours alone, and so is every directory above.
        auto in = read_input_file(file.string(), verification_cache_max_bytes, FileTrust::anchor, "verification cache");
        if (!in || in->owner != static_cast<std::uint32_t>(::geteuid())) return {};
        const std::string dir = std::filesystem::path(in->real_path).parent_path().string();
        if (!check_user_only_dir(dir, true)) return {};  // real_path is the opened file's own
        return parse_cache_text(in->text);
    } catch (const std::exception&) {
        return {};
    }
}

// mkdir -p with 0700 for what it creates (the cache's directories are nobody else's business).
inline bool make_private_dirs(const std::filesystem::path& dir) {
    std::filesystem::path so_far;
    for (const auto& part : dir) {
        so_far /= part;
        if (::mkdir(so_far.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
    return true;
}

CORDON_FUNC void remember_verification(const std::filesystem::path& file, std::vector<VerifiedStamp> entries,
                                       const VerifiedStamp& entry) {
    try {
        if (file.empty() || !file.is_absolute()) return;
        const std::filesystem::path dir = file.parent_path();
        if (!make_private_dirs(dir) || !check_user_only_dir(dir.string())) return;
        std::string text = std::string(verification_cache_header) + '\n' + format_cache_line(entry);
        std::size_t kept = 1;
        for (const VerifiedStamp& e : entries) {
            bool same_inode = e.stamp.device == entry.stamp.device && e.stamp.inode == entry.stamp.inode;
            if (same_inode || kept == verification_cache_entries) continue;
            text += format_cache_line(e);
            ++kept;
        }
        (void)write_file_replacing(file.string(), text);
    } catch (const std::exception&) {
        // best effort: the next run hashes again
    }
}

#else  // _WIN32: the handle-based verification has no cache yet; every run hashes

CORDON_FUNC std::vector<VerifiedStamp> read_verification_cache(const std::filesystem::path&) { return {}; }
CORDON_FUNC void remember_verification(const std::filesystem::path&, std::vector<VerifiedStamp>, const VerifiedStamp&) {}

#endif

}  // namespace cordon::detail
