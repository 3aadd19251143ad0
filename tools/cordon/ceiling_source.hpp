// SPDX-License-Identifier: MIT
// cordon CLI: where the operator's ceiling comes from, decided the same way by every command.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>
#include <string>
#include <string_view>

#include "cordon/ceiling_loader.hpp"
#include "cordon/error.hpp"

namespace cordon::cli {

/// The ceiling options a command was given.
struct CeilingSource {
    std::optional<std::string> file;        ///< --ceiling FILE
    std::optional<std::string> env_prefix;  ///< --ceiling-env [PREFIX]
    /// Without either option, read CORDON_* when any of them is set (cordon run); otherwise a
    /// source is required (cordon clamp).
    bool implicit_env = false;
};

/// The system ceiling's path: $CORDON_SYSTEM_CEILING (for tests and unusual layouts; the same
/// ownership rules apply), else the build's (meson option system_ceiling, /etc/cordon/ceiling.json).
inline std::string system_ceiling_file() {
    if (const char* p = std::getenv("CORDON_SYSTEM_CEILING"); p && *p) return p;
#if defined(CORDON_SYSTEM_CEILING_PATH)
    return CORDON_SYSTEM_CEILING_PATH;
#else
    return std::string(default_system_ceiling);
#endif
}

/// The environment ceiling's variable names, PREFIX + each of ceiling_env_suffixes, joined by ", "
/// (for help texts and the man page: the list lives in one place).
inline std::string ceiling_env_names(std::string_view prefix = "CORDON_") {
    std::string out;
    for (std::string_view suffix : ceiling_env_suffixes)
        out += (out.empty() ? "" : ", ") + std::string(prefix) + std::string(suffix);
    return out;
}

/// Whether something exists at `path` (a dangling link counts: it is refused, not skipped).
inline bool exists_at(const std::string& path) {
    std::error_code ec;
    return std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found;
}

/// Loads the one ceiling the options name. Two sources are refused rather than one preferred:
/// --ceiling and --ceiling-env together, or --ceiling while CORDON_* ceiling variables are set
/// (a wrapper, or the environment, could otherwise decide which bounds the request). With no
/// source at all, the system ceiling (system_ceiling_file()) is used when it exists, and only
/// when root owns it and nobody else can write it (load_system_ceiling); an unsafe one is an
/// error, never skipped. Every report names the ceiling used (Ceiling::source).
/// Errors: invalid-policy naming both sources; those of load_ceiling_file / ceiling_from_env /
/// load_system_ceiling; invalid-policy when there is no ceiling.
inline Result<Ceiling> load_operator_ceiling(const CeilingSource& source, const CeilingOptions& options) {
    if (source.file && source.env_prefix)
        return make_error(ErrorCode::invalid_policy,
                          "both --ceiling and --ceiling-env are given; give exactly one ceiling");
    if (source.file) {
        auto set = ceiling_env_set("CORDON_");
        if (!set.empty())
            return make_error(ErrorCode::invalid_policy,
                              "--ceiling " + *source.file + " is given while the environment sets " + set.front() +
                                  ", a second ceiling; unset the CORDON_* variables or drop --ceiling",
                              *source.file);
        return load_ceiling_file(*source.file, options);
    }
    if (source.env_prefix) return ceiling_from_env(*source.env_prefix, options);
    if (source.implicit_env && !ceiling_env_set("CORDON_").empty()) return ceiling_from_env("CORDON_", options);
    const std::string system = system_ceiling_file();
    if (exists_at(system)) return load_system_ceiling(system, options);
    return make_error(ErrorCode::invalid_policy,
                      source.implicit_env
                          ? "no ceiling: pass --ceiling FILE, set CORDON_READONLY_PATHS / CORDON_READWRITE_PATHS, or "
                            "install a system ceiling at " + system + " (cordon never runs with an unlimited default)"
                          : "no ceiling: give --ceiling FILE or --ceiling-env [PREFIX], or install a system ceiling at " +
                                system);
}

}  // namespace cordon::cli
