// SPDX-License-Identifier: MIT
// cordon: finding the Unix sockets inside a granted tree (a docker.sock or ssh-agent socket there
// would be reachable from the sandbox with the network blocked).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "cordon/config.hpp"

namespace cordon::detail {

/// Entries one clamp looks at, over all its grants, before it gives up on a grant (fail closed).
inline constexpr std::size_t socket_scan_limit = 200000;

/// What find_sockets found.
struct SocketScan {
    std::vector<std::string> sockets;  ///< absolute paths of the sockets at or below the root
    bool complete = true;              ///< false: `budget` ran out first, so there may be more
    std::string problem;               ///< a directory that could not be read (the scan is then incomplete)
};

/// What one directory held, as far as the search cares: its subdirectories and its sockets (names).
struct DirListing {
    std::vector<std::string> subdirs;
    std::vector<std::string> sockets;
};

/// Directories one clamp has read, by canonical path: grants overlap (a request's `~/proj/src`
/// and `~/proj`, or an ancestor narrowed to ceiling roots that were granted already), and each
/// directory is read from disk once per clamp, at one moment, as PathResolver resolves paths.
using DirMemo = std::unordered_map<std::string, DirListing>;

/// Walks `root` (a canonical path; itself included) without following symlinks, and collects
/// every socket. Each entry read from disk costs one unit of `budget`; directories already in
/// `memo` (optional) are taken from it, and those read are added. POSIX only (no sockets
/// reported on Windows, where AF_UNIX sockets are reparse points cordon does not look for yet).
CORDON_FUNC SocketScan find_sockets(const std::string& root, std::size_t& budget, DirMemo* memo = nullptr);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/socket_scan.hpp"
#endif
