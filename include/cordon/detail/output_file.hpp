// SPDX-License-Identifier: MIT
// cordon: writing a file cordon produces (a report) without following a link someone planted at its name.
#pragma once

#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

/// Writes `bytes` to `path` by creating a new file (exclusively, never through a symlink) in the
/// same directory and renaming it over `path`: a symlink or hard link planted at `path` (by a
/// sandbox that can write that directory) is replaced, never written through. The new file is
/// readable by its owner only; a FIFO there is replaced too (it may have been planted). A
/// character device at `path` (`/dev/null`, a terminal) is written in place, and the caller's own
/// descriptors by name (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`) through the
/// descriptor: renaming over them would replace the node. A block device or socket, and any other
/// name directly in /dev, /proc or /sys (`/dev/stdin`), are refused. Windows: always the rename.
/// Errors: io-error naming the path and the system's reason.
CORDON_FUNC Status write_file_replacing(const std::string& path, std::string_view bytes);

/// How write_file_replacing would write `path`, found without writing it.
enum class OutputTarget : unsigned char {
    in_place,  ///< one of the caller's descriptors open for writing, or a character device that opens for writing
    replaced,  ///< a new file renamed over the name (what holds it now is never written)
};
/// Errors: what write_file_replacing would refuse (a directory, a block device or socket, another
/// name in /dev, /proc or /sys, a closed or read-only descriptor, a device that does not open for
/// writing), as io-error naming the path. Windows: always `replaced`.
CORDON_FUNC Result<OutputTarget> check_output_target(const std::string& path);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/output_file.hpp"
#endif
