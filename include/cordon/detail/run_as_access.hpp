// SPDX-License-Identifier: MIT
// cordon: whether the sandbox's user can use a grant (cordon as root runs the sandbox as another uid).
#pragma once

#include <string>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/run_limits.hpp"

namespace cordon::detail {

/// Whether `who` (uid and gid, no supplementary groups: what the sandbox runs with) can search every
/// directory above `path` and read it (`write`: and write it), by the mode bits. POSIX ACLs are not
/// consulted. `field` is the JSON pointer of the grant. Errors: invalid-policy naming the path, the
/// uid and what it lacks, and how to fix it. POSIX only (Windows: always fine).
CORDON_FUNC Status check_run_as_access(const std::string& path, const RunAs& who, bool write, const std::string& field);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/run_as_access.hpp"
#endif
