// SPDX-License-Identifier: MIT
// cordon: remembering which executor files were verified, keyed by the opened file's identity and change times.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/pins.hpp"  // detail::is_lower_hex_digest

#if !defined(_WIN32)
#include <sys/stat.h>
#include <time.h>
#endif

namespace cordon {

/// Whether and where verification may remember an executor it hashed, so the next process that
/// opens the same unchanged file skips the hash (~10 ms for lxc-exec). Threat model and the rules
/// for a hit: docs/executor-trust.md, "Verification cache". POSIX only (Windows always hashes).
struct VerificationCacheOptions {
    /// false: always hash. The environment can only turn the cache off: CORDON_VERIFY_CACHE set to
    /// anything but "", "1", "on", "yes" or "true" disables it whatever this says.
    bool enabled = true;
    /// The cache file; empty: default_verification_cache_file().
    std::filesystem::path file;
};

/// `${XDG_CACHE_HOME:-$HOME/.cache}/cordon/verified-executors` (next to the executors that
/// scripts/setup_sandbox.sh installs), or empty (no cache) when neither variable is an absolute path.
inline std::filesystem::path default_verification_cache_file() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return std::filesystem::path(xdg) / "cordon" / "verified-executors";
    const char* home = std::getenv("HOME");
    if (home && home[0] == '/') return std::filesystem::path(home) / ".cache" / "cordon" / "verified-executors";
    return {};
}

/// Whether CORDON_VERIFY_CACHE leaves the cache on (unset, empty, "1", "on", "yes", "true").
/// Any other value turns it off: a mistyped "of" must not keep it on.
inline bool verification_cache_allowed_by_env() {
    const char* v = std::getenv("CORDON_VERIFY_CACHE");
    if (!v) return true;
    const std::string_view s(v);
    return s.empty() || s == "1" || s == "on" || s == "yes" || s == "true";
}

namespace detail {

/// What identifies one state of one file: which inode it is and when it last changed. A content
/// write, truncation, chmod, chown, link or rename of it moves ctime, which only root can set back
/// (by setting the clock); a different file at the same path has another device/inode.
struct FileStamp {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;  ///< since the epoch
    std::int64_t ctime_ns = 0;
    std::uint32_t uid = 0;
    std::uint32_t mode = 0;  ///< st_mode, type bits included
    friend bool operator==(const FileStamp& a, const FileStamp& b) {
        return a.device == b.device && a.inode == b.inode && a.size == b.size && a.mtime_ns == b.mtime_ns &&
               a.ctime_ns == b.ctime_ns && a.uid == b.uid && a.mode == b.mode;
    }
    friend bool operator!=(const FileStamp& a, const FileStamp& b) { return !(a == b); }
};

/// One remembered verification: the file's stamp and the SHA-256 (lower-case hex) it had.
struct VerifiedStamp {
    FileStamp stamp;
    std::string sha256;
};

// First line of the file; a format change gets a new number, and an old file is then ignored.
inline constexpr std::string_view verification_cache_header = "cordon-verified-executors 1";
inline constexpr std::size_t verification_cache_max_bytes = 64 * 1024;
/// Entries kept: a few SDK versions and architectures, and old installs age out.
inline constexpr std::size_t verification_cache_entries = 16;

#if !defined(_WIN32)

inline FileStamp stamp_of(const struct stat& st) {
#if defined(__APPLE__)
    const struct timespec& m = st.st_mtimespec;
    const struct timespec& c = st.st_ctimespec;
#else
    const struct timespec& m = st.st_mtim;
    const struct timespec& c = st.st_ctim;
#endif
    auto ns = [](const struct timespec& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + static_cast<std::int64_t>(t.tv_nsec);
    };
    return FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                     static_cast<std::uint64_t>(st.st_size), ns(m), ns(c), static_cast<std::uint32_t>(st.st_uid),
                     static_cast<std::uint32_t>(st.st_mode)};
}

inline std::int64_t realtime_ns() {
    struct timespec t {};
    ::clock_gettime(CLOCK_REALTIME, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + static_cast<std::int64_t>(t.tv_nsec);
}

#endif

template <class Int>
bool parse_decimal(std::string_view text, Int& out) {
    if (text.empty() || (text.size() > 1 && text[0] == '0') || (text[0] == '-' && text.size() == 1)) return false;
    auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// "DEV INO SIZE MTIME_NS CTIME_NS UID MODE SHA256", single spaces, decimal, no leading zeros.
inline std::optional<VerifiedStamp> parse_cache_line(std::string_view line) {
    std::string_view f[8];
    for (std::size_t i = 0; i < 8; ++i) {
        auto cut = line.find(' ');
        if ((cut == std::string_view::npos) != (i == 7)) return std::nullopt;
        f[i] = line.substr(0, cut);
        line.remove_prefix(cut == std::string_view::npos ? line.size() : cut + 1);
    }
    VerifiedStamp e;
    FileStamp& s = e.stamp;
    if (!parse_decimal(f[0], s.device) || !parse_decimal(f[1], s.inode) || !parse_decimal(f[2], s.size) ||
        !parse_decimal(f[3], s.mtime_ns) || !parse_decimal(f[4], s.ctime_ns) || !parse_decimal(f[5], s.uid) ||
        !parse_decimal(f[6], s.mode) || !is_lower_hex_digest(f[7]))
        return std::nullopt;
    e.sha256 = std::string(f[7]);
    return e;
}

inline std::string format_cache_line(const VerifiedStamp& e) {
    const FileStamp& s = e.stamp;
    return std::to_string(s.device) + ' ' + std::to_string(s.inode) + ' ' + std::to_string(s.size) + ' ' +
           std::to_string(s.mtime_ns) + ' ' + std::to_string(s.ctime_ns) + ' ' + std::to_string(s.uid) + ' ' +
           std::to_string(s.mode) + ' ' + e.sha256 + '\n';
}

// All entries, or none when any line is malformed: a file that is not what cordon writes is not used.
inline std::vector<VerifiedStamp> parse_cache_text(std::string_view text) {
    std::vector<VerifiedStamp> out;
    if (text.substr(0, verification_cache_header.size()) != verification_cache_header) return {};
    text.remove_prefix(verification_cache_header.size());
    if (text.empty() || text[0] != '\n') return {};
    text.remove_prefix(1);
    while (!text.empty()) {
        auto cut = text.find('\n');
        if (cut == std::string_view::npos) return {};  // every line ends in a newline
        auto entry = parse_cache_line(text.substr(0, cut));
        if (!entry || out.size() == verification_cache_entries) return {};
        out.push_back(std::move(*entry));
        text.remove_prefix(cut + 1);
    }
    return out;
}

/// The cache file to use for `options` (enabled, allowed by the environment, on POSIX), or empty.
inline std::filesystem::path effective_cache_file(const VerificationCacheOptions& options) {
#if defined(_WIN32)
    (void)options;
    return {};
#else
    if (!options.enabled || !verification_cache_allowed_by_env()) return {};
    return options.file.empty() ? default_verification_cache_file() : options.file;
#endif
}

/// The entries of the cache `file`, or none when it is absent, malformed, or could have been
/// written by anyone but us: the file must be a regular file with one link, owned by the current
/// user, writable by nobody else, and it and every directory above it must be changeable only by
/// root and us (check_user_only_dir). Never an error: a cache that cannot be trusted is not used.
CORDON_FUNC std::vector<VerifiedStamp> read_verification_cache(const std::filesystem::path& file);

/// The digest remembered for exactly `stamp` in `entries`, if any.
inline std::optional<std::string> cached_digest(const std::vector<VerifiedStamp>& entries, const FileStamp& stamp) {
    for (const VerifiedStamp& e : entries)
        if (e.stamp == stamp) return e.sha256;
    return std::nullopt;
}

/// How long ago the file's ctime must lie before its hash is remembered: a change within the same
/// timestamp tick as the one before would not move ctime (the "racy" case git also guards against).
/// Whole-second stamps (a filesystem without sub-second times) need a whole second more.
inline bool stamp_settled(const FileStamp& stamp, std::int64_t now_ns) {
    // A later change gets a ctime of at least "now" less one clock tick (<= 10 ms); 100 ms is ten
    // ticks. Whole-second stamps can repeat for up to a second (two on FAT), so wait that out.
    const bool whole_seconds = stamp.ctime_ns % 1000000000 == 0 && stamp.mtime_ns % 1000000000 == 0;
    const std::int64_t margin = whole_seconds ? std::int64_t{2000000000} : std::int64_t{100000000};
    return stamp.ctime_ns <= now_ns - margin;
}

/// Remembers `entry` in `file` (newest first, at most verification_cache_entries, one per inode),
/// written atomically as a new 0600 file renamed into place, in a directory created 0700 when
/// missing. Nothing is written when the directory could be changed by someone else. Best effort:
/// failures are ignored (the next run hashes again).
CORDON_FUNC void remember_verification(const std::filesystem::path& file, std::vector<VerifiedStamp> entries,
                                       const VerifiedStamp& entry);

}  // namespace detail
}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/verification_cache.hpp"
#endif
