// SPDX-License-Identifier: MIT
// cordon: implementation of detail/socket_scan.hpp (open + getdents64, d_type first, lstat only when unknown).
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif
#endif

#include "cordon/detail/socket_scan.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

// Reads one directory into `out`, charging `budget` per entry. Linux: getdents64 on the open
// descriptor (fdopendir/readdir would add an fstat and two fcntls per directory, which in a
// clamp of a dozen small grants were a third of its system calls). Returns an errno, or 0;
// `complete` turns false when the budget ran out.
inline int read_listing(int fd, std::size_t& budget, bool& complete, DirListing& out) {
    auto take = [&](const char* name, unsigned char type) {
        if ((name[0] == '.' && name[1] == '\0') || (name[0] == '.' && name[1] == '.' && name[2] == '\0')) return true;
        if (budget == 0) return complete = false;
        --budget;
        if (type == DT_UNKNOWN) {
            struct stat es {};
            if (::fstatat(fd, name, &es, AT_SYMLINK_NOFOLLOW) != 0) return true;
            type = S_ISDIR(es.st_mode) ? DT_DIR : S_ISSOCK(es.st_mode) ? DT_SOCK : DT_REG;
        }
        if (type == DT_SOCK) out.sockets.emplace_back(name);
        else if (type == DT_DIR) out.subdirs.emplace_back(name);
        return true;
    };
#if defined(__linux__) && defined(SYS_getdents64)
    struct Record {  // the kernel's linux_dirent64
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
    };
    alignas(8) char buf[32768];
    for (;;) {
        long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) return errno;
        if (n == 0) return 0;
        for (long at = 0; at < n;) {
            const auto* r = reinterpret_cast<const Record*>(buf + at);
            if (!take(r->name, r->type)) return 0;
            at += r->reclen;
        }
    }
#else
    DIR* d = ::fdopendir(::dup(fd));
    if (!d) return errno;
    while (dirent* e = ::readdir(d))
        if (!take(e->d_name, e->d_type)) break;
    ::closedir(d);
    return 0;
#endif
}

inline std::string child_path(const std::string& dir, const std::string& name) {
    return (dir == "/" ? "" : dir) + "/" + name;
}

CORDON_FUNC SocketScan find_sockets(const std::string& root, std::size_t& budget, DirMemo* memo) {
    SocketScan scan;
    DirMemo local;
    DirMemo& known = memo ? *memo : local;
    std::vector<std::string> pending{root};  // iterative: depth is the tree's, never the stack's
    while (!pending.empty()) {
        std::string dir = std::move(pending.back());
        pending.pop_back();
        auto it = known.find(dir);
        if (it == known.end()) {
            int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 && dir == root && errno == ENOENT) return scan;  // absent: nothing below it either
            if (fd < 0 && dir == root && (errno == ENOTDIR || errno == ELOOP || errno == ENXIO)) {
                struct stat st {};  // the grant itself is no directory: a socket, or nothing to search
                if (::lstat(root.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) scan.sockets.push_back(root);
                return scan;
            }
            if (fd < 0) {
                scan.complete = false;
                scan.problem = dir + ": " + std::strerror(errno);
                return scan;
            }
            DirListing listing;
            int err = read_listing(fd, budget, scan.complete, listing);
            ::close(fd);
            if (err != 0) {
                scan.complete = false;
                scan.problem = dir + ": " + std::strerror(err);
                return scan;
            }
            if (!scan.complete) return scan;  // a partial listing is never remembered
            it = known.emplace(dir, std::move(listing)).first;
        }
        for (const std::string& s : it->second.sockets) scan.sockets.push_back(child_path(dir, s));
        for (const std::string& d : it->second.subdirs) pending.push_back(child_path(dir, d));
    }
    return scan;
}

#else

CORDON_FUNC SocketScan find_sockets(const std::string&, std::size_t&, DirMemo*) { return {}; }

#endif

}  // namespace cordon::detail
