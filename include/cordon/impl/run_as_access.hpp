// SPDX-License-Identifier: MIT
// cordon: implementation of detail/run_as_access.hpp.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#if !defined(_WIN32)
#include <sys/stat.h>
#endif

#include "cordon/detail/run_as_access.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

// The owner, group or other bits of `st` that apply to `who` (r = 4, w = 2, x = 1).
inline unsigned mode_bits_for(const struct stat& st, const RunAs& who) {
    unsigned m = st.st_mode;
    if (st.st_uid == who.uid) return (m >> 6) & 7u;
    if (st.st_gid == who.gid) return (m >> 3) & 7u;
    return m & 7u;
}

CORDON_FUNC Status check_run_as_access(const std::string& path, const RunAs& who, bool write, const std::string& field) {
    const std::string user = "uid " + std::to_string(who.uid) + " (the sandbox's user, the ceiling's runAs)";
    auto refuse = [&](const std::string& what, const std::string& at) {
        return make_error(ErrorCode::invalid_policy,
                          user + " " + what + " " + at + ": give it to that user (chown/chmod), grant another path, or "
                                                        "name another runAs in the ceiling",
                          field);
    };
    // Every directory above the grant must be searchable.
    for (std::string::size_type cut = path.find('/', 1); cut != std::string::npos; cut = path.find('/', cut + 1)) {
        std::string dir = path.substr(0, cut);
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0)
            return make_error(ErrorCode::invalid_policy, "cannot stat " + dir + ": " + std::strerror(errno), field);
        if ((mode_bits_for(st, who) & 1u) == 0) return refuse("cannot enter", dir);
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return make_error(ErrorCode::invalid_policy, "cannot stat " + path + ": " + std::strerror(errno), field);
    unsigned bits = mode_bits_for(st, who);
    unsigned need = (write ? 6u : 4u) | (S_ISDIR(st.st_mode) ? 1u : 0u);
    if ((bits & need) != need) return refuse(write ? "cannot write" : "cannot read", path);
    return {};
}

#else

CORDON_FUNC Status check_run_as_access(const std::string&, const RunAs&, bool, const std::string&) { return {}; }

#endif

}  // namespace cordon::detail
