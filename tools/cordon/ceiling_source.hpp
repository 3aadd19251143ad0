// SPDX-License-Identifier: MIT
// cordon CLI: where the operator's ceiling comes from, decided the same way by every command.
#pragma once

#include <optional>
#include <string>

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

/// Loads the one ceiling the options name. Two sources are refused rather than one preferred:
/// --ceiling and --ceiling-env together, or --ceiling while CORDON_* ceiling variables are set
/// (a wrapper, or the environment, could otherwise decide which bounds the request).
/// Errors: invalid-policy naming both sources; those of load_ceiling_file / ceiling_from_env.
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
    return make_error(ErrorCode::invalid_policy,
                      source.implicit_env
                          ? "no ceiling: pass --ceiling FILE or set CORDON_READONLY_PATHS / CORDON_READWRITE_PATHS "
                            "(cordon never runs with an unlimited default)"
                          : "give exactly one of --ceiling FILE and --ceiling-env [PREFIX]");
}

}  // namespace cordon::cli
