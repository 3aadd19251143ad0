// SPDX-License-Identifier: MIT
// cordon: loading the operator ceiling from a JSON file or CORDON_* environment variables, canonicalised once.
#pragma once

#include <cstdint>
#include <array>
#include <cstdlib>  // std::getenv
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/canonical.hpp"
#include "cordon/ceiling.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/path.hpp"
#include "cordon/timeout.hpp"

namespace cordon {

struct CeilingOptions {
    PathStyle style = host_path_style();
    /// false: lexical normalisation only (any style on any host; symlinks are not followed).
    bool canonicalize = true;
};

/// Environment lookup used by ceiling_from_env (injectable for tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

inline std::optional<std::string> process_env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}

namespace detail {

inline Status check_ceiling_options(const CeilingOptions& options) {
    if (options.canonicalize && options.style != host_path_style())
        return make_error(ErrorCode::invalid_policy,
                          std::string("cannot canonicalise ") + std::string(to_string(options.style)) +
                              " paths on this host; load the ceiling lexically (--no-canonical)");
    return {};
}

// One ceiling root, resolved once. `where` names the input (JSON pointer or variable).
inline Result<Path> ceiling_root(std::string_view text, const CeilingOptions& options, const std::string& where) {
    auto fail = [&](const std::string& why) {
        return make_error(ErrorCode::invalid_policy, "\"" + std::string(text) + "\": " + why, where);
    };
    if (!options.canonicalize) {
        auto p = Path::parse(text, options.style);
        if (!p) return fail(p.error().message);
        return std::move(*p);
    }
    auto r = canonical(text);
    if (!r) return fail(r.error().message);
    if (r->state == Resolution::unknown) return fail("cannot be resolved (" + r->reason + ")");
    return std::move(r->path);
}

inline Status ceiling_roots(const std::vector<std::string>& texts, const CeilingOptions& options,
                            const std::function<std::string(std::size_t)>& where, std::vector<Path>& out) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto p = ceiling_root(texts[i], options, where(i));
        if (!p) return p.error();
        out.push_back(std::move(*p));
    }
    return {};
}

}  // namespace detail

/// Parses a ceiling document: strict JSON, then the closed schema (valijson), then the MXC
/// decoder's rules for the MXC sections; paths canonicalised (or normalised) once, here.
/// Errors: invalid-policy with `where` = the JSON pointer of the first problem.
CORDON_FUNC Result<Ceiling> parse_ceiling(std::string_view text, const CeilingOptions& options = {});

/// Reads and parses a ceiling file, and records it as the trust anchor `source_file`. The file must
/// be one an operator controls: a regular file (a FIFO is refused, never waited on) with one link,
/// writable only by its owner, who is root or the current user, in a directory nobody else can
/// replace it in (detail::read_input_file).
/// Errors: io-error naming the file; invalid-policy for an untrustworthy file; otherwise as
/// parse_ceiling, with `where` = "FILE: POINTER".
CORDON_FUNC Result<Ceiling> load_ceiling_file(const std::string& file, const CeilingOptions& options = {});

/// Where the system ceiling lives unless the build says otherwise (meson option system_ceiling).
inline constexpr std::string_view default_system_ceiling = "/etc/cordon/ceiling.json";

/// Reads the system ceiling `file` as load_ceiling_file does, and only if root owns it and nobody
/// else can write it or replace it: root's, one link, not group or world writable, and every
/// directory above it root's and not group or world writable (sticky allowed). POSIX only.
/// Errors: as load_ceiling_file; invalid-policy naming the file and who could change it.
CORDON_FUNC Result<Ceiling> load_system_ceiling(const std::string& file, const CeilingOptions& options = {});

/// Splits an environment path list: `;` for Windows style (drive letters keep their colon, on any
/// host), `:` for POSIX. An empty value is an empty list; an empty entry is an error.
/// Errors: invalid-policy with `where` = `variable`.
inline Result<std::vector<std::string>> split_path_list(std::string_view value, PathStyle style,
                                                        const std::string& variable = {}) {
    std::vector<std::string> out;
    if (value.empty()) return out;
    const char sep = style == PathStyle::windows ? ';' : ':';
    std::size_t index = 0;
    while (true) {
        auto cut = value.find(sep);
        std::string_view item = value.substr(0, cut);
        if (item.empty())
            return make_error(ErrorCode::invalid_policy,
                              "empty entry #" + std::to_string(index) + " in the list (separator '" +
                                  std::string(1, sep) + "' for " + std::string(to_string(style)) + " paths)",
                              variable);
        out.emplace_back(item);
        ++index;
        if (cut == std::string_view::npos) break;
        value.remove_prefix(cut + 1);
    }
    return out;
}

/// The variables of an environment ceiling, after the prefix (CORDON_ + READONLY_PATHS, ...).
inline constexpr std::array<std::string_view, 14> ceiling_env_suffixes{
    "READONLY_PATHS", "READWRITE_PATHS", "DENIED_PATHS", "ALLOWED_SOCKETS", "TIMEOUT_MS", "NETWORK", "ENV_ALLOW",
    "RUN_AS", "LIMITS", "EGRESS_ALLOW", "EGRESS_DENY", "ALLOWED_DOMAINS", "PROXY_HOSTS_FILE", "PROXY_ALLOWED_INTERNAL"};

/// The names of the `prefix` ceiling variables that are set (so a caller can refuse a second source).
inline std::vector<std::string> ceiling_env_set(std::string_view prefix, const EnvLookup& lookup = process_env) {
    std::vector<std::string> set;
    for (std::string_view suffix : ceiling_env_suffixes)
        if (lookup(std::string(prefix) + std::string(suffix))) set.push_back(std::string(prefix) + std::string(suffix));
    return set;
}

/// The ceiling from environment variables named PREFIX + READONLY_PATHS, READWRITE_PATHS,
/// DENIED_PATHS, ALLOWED_SOCKETS (lists, see split_path_list), TIMEOUT_MS (0..4294967295, 0 = no limit),
/// NETWORK (block|allow), ENV_ALLOW (names or globs, same separator), RUN_AS (as `runAs`) and
/// LIMITS (`processes=64,memoryBytes=1073741824`, the names of the ceiling's `limits`), ALLOWED_DOMAINS
/// (domain patterns separated by ',': `pypi.org,*.github.com:443`), EGRESS_ALLOW / EGRESS_DENY
/// (`cordon run --egress` rules separated by ','), PROXY_HOSTS_FILE and PROXY_ALLOWED_INTERNAL
/// (address blocks separated by ','). Unset means the
/// default (nothing granted, no limit, block); a bad value is an error, never a default. PREFIX is
/// letters, digits and '_', ending in '_' (an empty one would read bare names such as NETWORK).
/// Errors: invalid-policy with `where` = the variable name (or the prefix).
CORDON_FUNC Result<Ceiling> ceiling_from_env(std::string_view prefix = "CORDON_", const CeilingOptions& options = {},
                                             const EnvLookup& lookup = process_env);

namespace detail {

/// The sandbox user a ceiling names (`runAs`: a user name, "UID" or "UID:GID"); nullopt when it
/// names none. uid 0 and gid 0 are refused: never host root inside.
/// Errors: invalid-policy with `where`; POSIX only (refused elsewhere when named).
CORDON_FUNC Result<std::optional<RunAs>> run_as_for(const std::optional<std::string>& named, const std::string& where);

/// The sandbox's user when nobody named one: `nobody` when this process runs as root (the executor
/// is never started as root), else nullopt (the executor runs as the caller).
CORDON_FUNC std::optional<RunAs> default_run_as();

/// One limit value: 0..2^63-1 (0 = no limit), digits only. Errors: invalid-policy with `where`.
CORDON_FUNC Result<std::uint64_t> parse_limit_value(std::string_view text, const std::string& where);

}  // namespace detail

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/ceiling_loader.hpp"
#endif
