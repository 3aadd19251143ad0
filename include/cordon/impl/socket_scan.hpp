// SPDX-License-Identifier: MIT
// cordon: implementation of detail/socket_scan.hpp (openat + fdopendir, d_type first, lstat only when unknown).
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#if !defined(_WIN32)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/socket_scan.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

CORDON_FUNC SocketScan find_sockets(const std::string& root, std::size_t& budget) {
    SocketScan scan;
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) return scan;  // absent: nothing below it either
    if (S_ISSOCK(st.st_mode)) scan.sockets.push_back(root);
    if (!S_ISDIR(st.st_mode)) return scan;
    std::vector<std::string> pending{root};  // iterative: depth is the tree's, never the stack's
    while (!pending.empty()) {
        std::string dir = std::move(pending.back());
        pending.pop_back();
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
        if (!d) {
            if (fd >= 0) ::close(fd);
            scan.complete = false;
            scan.problem = dir + ": " + std::strerror(errno);
            return scan;
        }
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
            if (budget == 0) {
                scan.complete = false;
                break;
            }
            --budget;
            std::string path = (dir == "/" ? "" : dir) + "/" + e->d_name;
            unsigned char type = e->d_type;
            if (type == DT_UNKNOWN) {
                struct stat es {};
                if (::fstatat(::dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) continue;
                type = S_ISDIR(es.st_mode) ? DT_DIR : S_ISSOCK(es.st_mode) ? DT_SOCK : DT_REG;
            }
            if (type == DT_SOCK) scan.sockets.push_back(path);
            else if (type == DT_DIR) pending.push_back(std::move(path));
        }
        ::closedir(d);
        if (!scan.complete) return scan;
    }
    return scan;
}

#else

CORDON_FUNC SocketScan find_sockets(const std::string&, std::size_t&) { return {}; }

#endif

}  // namespace cordon::detail
