// SPDX-License-Identifier: MIT
// cordon: directories only root can write, the only places helper programs of an executor come from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

/// Whether only root can change what `dir` holds: the directory and every ancestor are owned by
/// root and writable by neither group nor others (sticky directories included: /tmp is not a place
/// to run helpers from). Symlinks are resolved first. Errors: invalid-policy naming the directory
/// (and the ancestor) that fails, io-error when it cannot be examined. POSIX only.
/// `canonical`: `dir` is already canonical (resolving it again would cost a readlink per component).
CORDON_FUNC Status check_root_only_dir(const std::string& dir, bool canonical = false);

/// Whether only root and the current user can change what `dir` holds: the directory and every
/// ancestor are owned by root or the current user and writable by neither group nor others, unless
/// sticky (nobody else can then rename or remove what we own there, as in /tmp). Symlinks are
/// resolved first. Errors: as check_root_only_dir. POSIX only. `canonical`: as there.
CORDON_FUNC Status check_user_only_dir(const std::string& dir, bool canonical = false);

/// The canonical directories of the ':'-separated `dirs` that pass check_root_only_dir, in order,
/// each once (merged-/usr systems make /bin and /usr/bin one). Directories that do not exist are
/// left out; `rejected` (optional) gets one "DIR: reason" line per unsafe one.
CORDON_FUNC std::vector<std::string> trusted_helper_dirs(std::string_view dirs, std::vector<std::string>* rejected = nullptr);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/trusted_dirs.hpp"
#endif
