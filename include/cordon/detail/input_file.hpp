// SPDX-License-Identifier: MIT
// cordon: reading a file an operator names (a ceiling, a config to check) without ever blocking on
// it, and, for trust anchors, refusing one that someone else could change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

/// Which file it is, independent of the name it was reached by (POSIX st_dev/st_ino).
struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
        return a.device == b.device && a.inode == b.inode;
    }
    friend bool operator!=(const FileIdentity& a, const FileIdentity& b) { return !(a == b); }
};

/// What read_input_file read.
struct InputFile {
    std::string text;
    std::string real_path;  ///< the opened file's own canonical path (POSIX; empty on Windows)
    FileIdentity identity;  ///< POSIX only
    std::uint32_t owner = 0;  ///< the opened file's uid (POSIX only)
};

/// How much the file must be trusted.
enum class FileTrust : std::uint8_t {
    any,     ///< any regular file (a config to check)
    anchor,  ///< a trust anchor (a ceiling): see read_input_file
    system   ///< a system-wide file (/etc/cordon/ceiling.json): owned by root, writable by nobody else
};

/// The canonical path of the file open as `fd`, as the kernel names it (Linux: one readlink of
/// /proc/self/fd/N, where realpath() would read a link per component), or empty when it cannot
/// say (no /proc, a deleted file, a path outside this process's root).
CORDON_FUNC std::string open_file_path(int fd);

/// Reads `path`, which must be a regular file: it is opened non-blocking, so a FIFO or device put
/// in its place is refused instead of waited on, and checked on the open descriptor. With
/// FileTrust::anchor (POSIX) the file must also have exactly one link (a second name inside a
/// sandbox's writable grant would let the sandbox rewrite it), be writable by nobody but its
/// owner, be owned by root or the current user, and lie in a directory nobody else can replace
/// it in (owned by root or us, not group/world writable unless sticky). FileTrust::system asks more:
/// the file and every directory above it owned by root, none writable by group or others (a
/// directory may be sticky), so that only root could have written it. On Windows neither trust
/// level is checked yet. `what` names the file in messages ("ceiling file"). Errors: io-error (cannot open or read, with the system's reason),
/// invalid-policy (not a regular file, larger than `limit` bytes, not trustworthy); `where` = path.
CORDON_FUNC Result<InputFile> read_input_file(const std::string& path, std::size_t limit, FileTrust trust,
                                              std::string_view what);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/input_file.hpp"
#endif
