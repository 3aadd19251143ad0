// SPDX-License-Identifier: MIT
// cordon: host canonicalisation of a path (symlinks, junctions, 8.3 names), tri-state: canonical, absent or unknown.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <sys/stat.h>  // S_IFMT
#include <sys/types.h>  // mode_t

#include <cerrno>
#endif

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/error.hpp"
#include "cordon/path.hpp"

namespace cordon {

/// What canonicalisation learned about a path. `unknown` always denies: a path that exists but
/// cannot be resolved (permission denied, symlink loop, dangling link) is never granted.
enum class Resolution : std::uint8_t { canonical, absent, unknown };

template <>
struct EnumNames<Resolution> {
    static constexpr std::array<EnumName<Resolution>, 3> table{{
        {"canonical", Resolution::canonical},
        {"absent", Resolution::absent},
        {"unknown", Resolution::unknown},
    }};
};

/// Type of the entry a canonical path names (`unknown` when absent, unresolved or not asked).
enum class EntryKind : std::uint8_t { unknown, directory, other };

struct Resolved {
    Resolution state = Resolution::unknown;
    /// canonical: the final path; absent: the canonical longest existing ancestor with the rest
    /// appended lexically (a file about to be created); unknown: the lexical normalisation of the input.
    Path path;
    EntryKind kind = EntryKind::unknown;
    std::string reason;  ///< why the state is unknown
};

/// Replaces a leading `~` (alone or followed by a separator) with the home directory ($HOME, or
/// %USERPROFILE% for Windows style). Other text is returned unchanged.
/// Errors: invalid-policy for `~user` forms and when the variable is unset or empty.
inline Result<std::string> expand_home(std::string_view text, PathStyle style = host_path_style()) {
    if (text.empty() || text[0] != '~') return std::string(text);
    bool sep = text.size() == 1 || text[1] == '/' || (style == PathStyle::windows && text[1] == '\\');
    if (!sep) return make_error(ErrorCode::invalid_policy, "only `~` and `~/` are expanded, not `~user`", std::string(text));
    const char* var = style == PathStyle::windows ? "USERPROFILE" : "HOME";
    const char* home = std::getenv(var);
    if (!home || !*home)
        return make_error(ErrorCode::invalid_policy, std::string("cannot expand `~`: ") + var + " is not set", std::string(text));
    return std::string(home) + std::string(text.substr(1));
}

namespace detail {

#if !defined(_WIN32)
// What one lstat (and, for a link, readlink and a following stat) said about a path.
struct PosixEntry {
    int error = 0;        // errno of lstat, 0 on success
    mode_t mode = 0;      // lstat's st_mode
    int target_error = 0; // links: errno of stat (follows), 0 when the target exists
    std::string link;     // links: readlink's text
};
#endif

}  // namespace detail

/// Canonicalises many paths at one moment. It remembers what it learned about the filesystem
/// (one lstat, and readlink for links, per distinct directory entry) for its own lifetime, because
/// the paths of one request share most of their directories: make one per clamp, never keep one.
class PathResolver {
public:
    /// See canonical().
    Result<Resolved> operator()(std::string_view text);

    /// What this resolver's lstat of exactly `path` (a canonical path it walked) found, if it made
    /// one: the type bits of st_mode, 0 for a path that did not exist, nullopt when it did not
    /// look (or could not; POSIX only). Lets a caller skip asking the disk again in one clamp.
    std::optional<std::uint32_t> known_type(const std::string& path) const {
#if !defined(_WIN32)
        auto it = cache_.find(path);
        if (it == cache_.end()) {  // below a component found absent: absent as well
            auto cut = path.rfind('/');
            auto parent = cut == std::string::npos || cut == 0 ? cache_.end() : cache_.find(path.substr(0, cut));
            return parent != cache_.end() && parent->second.error == ENOENT ? std::optional<std::uint32_t>(0u) : std::nullopt;
        }
        if (it->second.error == ENOENT) return 0u;
        if (it->second.error != 0) return std::nullopt;
        return static_cast<std::uint32_t>(it->second.mode & S_IFMT);
#else
        (void)path;
        return std::nullopt;
#endif
    }

private:
#if !defined(_WIN32)
    const detail::PosixEntry& entry(const std::string& path);
    Result<Resolved> resolve_posix(const std::string& text, const Path& lexical);
    std::unordered_map<std::string, detail::PosixEntry> cache_;
#endif
};

/// Canonicalises `text` on this host: `~` expansion, then POSIX realpath semantics (symlinks
/// resolved, `..` applied physically) or, on Windows, the final name of the opened path. A
/// non-existent path yields `absent`: its longest existing ancestor canonicalised, the rest
/// appended lexically. A path that exists but cannot be resolved yields `unknown` (never an error).
/// Errors: invalid-policy, `where` = the text, when it is not an acceptable absolute path.
CORDON_FUNC Result<Resolved> canonical(std::string_view text);

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/canonical.hpp"
#endif
