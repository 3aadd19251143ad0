// SPDX-License-Identifier: MIT
// cordon: implementation of detail/bind_check.hpp.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#if !defined(_WIN32)
#include <sys/stat.h>
#endif

#include "cordon/detail/bind_check.hpp"

namespace cordon::detail {

inline std::string shell_single_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

#if !defined(_WIN32)

CORDON_FUNC Result<std::string> bind_check_prefix(const std::vector<std::string>& grants) {
    if (grants.empty()) return std::string();
    std::string paths, expected;
    for (const std::string& g : grants) {
        char* real = ::realpath(g.c_str(), nullptr);
        if (!real) return make_error(ErrorCode::invalid_policy, std::string("granted path is gone: ") + std::strerror(errno), g);
        bool same = g == real;
        std::free(real);
        if (!same)
            return make_error(ErrorCode::invalid_policy,
                              "granted path changed since it was clamped (a component is now a symlink)", g);
        struct stat st {};
        if (::stat(g.c_str(), &st) != 0)
            return make_error(ErrorCode::invalid_policy, std::string("cannot stat granted path: ") + std::strerror(errno), g);
        paths += " " + shell_single_quoted(g);
        expected += (expected.empty() ? "" : "\n") + std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                    std::to_string(static_cast<unsigned long long>(st.st_ino));
    }
    return "[ \"$(/usr/bin/stat -c %d:%i --" + paths + " 2>/dev/null)\" = '" + expected + "' ] || { echo '" +
           std::string(bind_check_marker) +
           "a granted path is not what cordon checked (it changed before the sandbox mounted it); nothing was run' >&2; "
           "exit 125; }\n";
}

#else

CORDON_FUNC Result<std::string> bind_check_prefix(const std::vector<std::string>&) { return std::string(); }

#endif

}  // namespace cordon::detail
