// SPDX-License-Identifier: MIT
// cordon: implementation of detail/trusted_dirs.hpp.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if !defined(_WIN32)
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/trusted_dirs.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

// Walks `dir` (symlinks resolved) and its ancestors up to "/": each must be a directory owned by
// root (or, unless `root_only`, by us) and writable by no one else (sticky ones allowed unless
// `root_only`). `why` ends the messages: what someone else could do there.
inline Status check_dir_chain(const std::string& dir, bool root_only, const char* why, std::string* canonical = nullptr,
                              bool resolved = false) {
    std::string path = dir;
    if (!resolved) {
        char* real = ::realpath(dir.c_str(), nullptr);
        if (!real) return make_error(ErrorCode::io_error, std::string("cannot resolve: ") + std::strerror(errno), dir);
        path = real;
        std::free(real);
    }
    if (canonical) *canonical = path;
    const uid_t me = ::geteuid();
    for (std::string p = path;;) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0)
            return make_error(ErrorCode::io_error, "cannot stat " + p + ": " + std::strerror(errno), dir);
        if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::invalid_policy, p + " is not a directory", dir);
        if (st.st_uid != 0 && (root_only || st.st_uid != me))
            return make_error(ErrorCode::invalid_policy,
                              p + " is owned by uid " + std::to_string(st.st_uid) +
                                  (root_only ? ", not root, who could " : ", neither root nor us, who could ") + why,
                              dir);
        const bool sticky_ok = !root_only && (st.st_mode & S_ISVTX) != 0;
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_ok)
            return make_error(ErrorCode::invalid_policy,
                              p + " is writable by its group or by others, who could " + std::string(why), dir);
        if (p == "/") return {};
        auto cut = p.find_last_of('/');
        p = cut == 0 ? "/" : p.substr(0, cut);
    }
}

CORDON_FUNC Status check_root_only_dir(const std::string& dir, bool canonical) {
    return check_dir_chain(dir, true, "plant programs there", nullptr, canonical);
}

CORDON_FUNC Status check_user_only_dir(const std::string& dir, bool canonical) {
    return check_dir_chain(dir, false, "replace what it holds", nullptr, canonical);
}

CORDON_FUNC std::vector<std::string> trusted_helper_dirs(std::string_view dirs, std::vector<std::string>* rejected) {
    std::vector<std::string> out;
    while (!dirs.empty()) {
        auto cut = dirs.find(':');
        std::string dir(dirs.substr(0, cut));
        dirs.remove_prefix(cut == std::string_view::npos ? dirs.size() : cut + 1);
        struct stat st {};
        if (dir.empty() || ::stat(dir.c_str(), &st) != 0) continue;  // absent here: nothing to run from it
        std::string canonical;  // as checked: resolving it again would cost every run another walk
        if (Status s = check_dir_chain(dir, true, "plant programs there", &canonical); !s) {
            if (rejected) rejected->push_back(s.error().to_string());
            continue;
        }
        if (std::find(out.begin(), out.end(), canonical) == out.end()) out.push_back(canonical);
    }
    return out;
}

#else

CORDON_FUNC Status check_root_only_dir(const std::string& dir, bool) {
    return make_error(ErrorCode::backend_unsupported, "directory ownership checks are POSIX only", dir);
}

CORDON_FUNC Status check_user_only_dir(const std::string& dir, bool) { return check_root_only_dir(dir, false); }

CORDON_FUNC std::vector<std::string> trusted_helper_dirs(std::string_view, std::vector<std::string>*) { return {}; }

#endif

}  // namespace cordon::detail
