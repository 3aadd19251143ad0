// SPDX-License-Identifier: MIT
// cordon: the helper programs an executor runs outside its sandbox (slirp4netns, iptables, ...), found as it finds them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/run_limits.hpp"

namespace cordon::detail {

/// One helper program as the executor will find it on the PATH cordon gives it.
struct HelperTool {
    std::string name;
    std::string path;               ///< the first executable `DIR/name` of the PATH (execvp's choice); empty: none
    std::string resolved;           ///< the file `path` leads to, every symlink followed
    std::vector<std::string> dirs;  ///< the canonical directory of every link on the way and of the file
    std::string problem;            ///< why it cannot be used; empty when it can
    bool usable() const noexcept { return problem.empty(); }
};

/// Looks each of the space-separated `names` up in `path_dirs`, in order, as execvp does (the first
/// entry that exists, is a regular file and has an execute bit wins; a dangling link or a
/// non-executable file is passed over). The winner is usable only when every symlink on its way
/// lies in a directory only root can write (check_root_only_dir: /etc/alternatives on Debian) and
/// the file is owned by root and writable by neither group nor others; otherwise `problem` says
/// which link or file fails. Not found at all: `problem` names the directories searched. POSIX only
/// (elsewhere every tool has a problem).
CORDON_FUNC std::vector<HelperTool> find_helper_tools(const std::vector<std::string>& path_dirs, std::string_view names);

/// Fails when a tool is unusable: backend-unsupported naming the first such tool and why, that
/// `need` needs it (e.g. "egress rules"), at `where`.
CORDON_FUNC Status require_helper_tools(const std::vector<HelperTool>& tools, std::string_view need, std::string where);

/// Why `who` (uid and gid, no supplementary groups) cannot open the device `path` for reading and
/// writing, by its mode bits (slirp4netns opens /dev/net/tun as the sandbox's user); empty when it can.
CORDON_FUNC std::string device_problem(const std::string& path, const RunAs& who);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/helper_tools.hpp"
#endif
