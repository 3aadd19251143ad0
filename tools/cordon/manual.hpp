// SPDX-License-Identifier: MIT
// cordon CLI: the man page and the shell completions, rendered from the commands' declarations.
#pragma once

#include <string>
#include <string_view>

#include "cordon/ceiling_loader.hpp"

namespace cordon::cli {

/// Where this build reads the system ceiling and installs the preset ceilings (meson sets both).
#if defined(CORDON_SYSTEM_CEILING_PATH)
inline constexpr std::string_view system_ceiling_path = CORDON_SYSTEM_CEILING_PATH;
#else
inline constexpr std::string_view system_ceiling_path = default_system_ceiling;
#endif
#if defined(CORDON_PRESET_DIR)
inline constexpr std::string_view preset_dir = CORDON_PRESET_DIR;
#else
inline constexpr std::string_view preset_dir = "/usr/local/share/cordon/presets";
#endif

/// cordon(1) in roff: every command's synopsis, description, options, exit status and example.
std::string man_page();
/// The bash completion script (`complete -F _cordon cordon`).
std::string bash_completion();
/// The zsh completion function (`#compdef cordon`).
std::string zsh_completion();

}  // namespace cordon::cli
