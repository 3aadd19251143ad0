// SPDX-License-Identifier: MIT
// cordon: implementation of detail/input_file.hpp.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/input_file.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

CORDON_FUNC std::string open_file_path(int fd) {
#if defined(__linux__)
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof buf) || buf[0] != '/') return {};
    std::string path(buf, static_cast<std::size_t>(n));
    const std::string_view deleted = " (deleted)";
    if (path.size() >= deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
        return {};
    return path;
#else
    (void)fd;
    return {};
#endif
}

inline std::string file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    return "not a regular file";
}

// Who could change the file (or, through its directory, replace it) other than root and us.
inline Status check_anchor_file(const struct stat& st, const std::string& real_path, std::string_view what) {
    const std::string w(what);
    if (st.st_nlink != 1)
        return make_error(ErrorCode::invalid_policy,
                          w + " has " + std::to_string(st.st_nlink) +
                              " hard links; a second name (perhaps inside a sandbox's writable grant) could be used to "
                              "rewrite it; give it exactly one link");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error(ErrorCode::invalid_policy, w + " is writable by its group or by others, who could widen it; "
                                                         "run 'chmod go-w' on it");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return make_error(ErrorCode::invalid_policy,
                          w + " is owned by uid " + std::to_string(st.st_uid) +
                              ", neither root nor the current user, who could change it");
    const std::string dir = std::filesystem::path(real_path).parent_path().string();
    struct stat d {};
    if (::stat(dir.c_str(), &d) != 0)
        return make_error(ErrorCode::io_error, "cannot stat the directory of the " + w + ": " + std::strerror(errno), dir);
    if ((d.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (d.st_mode & S_ISVTX) == 0)
        return make_error(ErrorCode::invalid_policy,
                          "the " + w + "'s directory " + dir +
                              " is writable by its group or by others (and not sticky), who could replace the file");
    if (d.st_uid != 0 && d.st_uid != ::geteuid())
        return make_error(ErrorCode::invalid_policy, "the " + w + "'s directory " + dir + " is owned by uid " +
                                                         std::to_string(d.st_uid) + ", who could replace the file");
    return {};
}

// `dir` and every directory above it are root's and not writable by group or others (a sticky
// directory's other users cannot replace root's entries in it).
inline Status check_root_chain(std::filesystem::path dir, const std::string& w) {
    for (;; dir = dir.parent_path()) {
        struct stat d {};
        if (::stat(dir.c_str(), &d) != 0)
            return make_error(ErrorCode::io_error, "cannot stat " + dir.string() + ": " + std::strerror(errno), dir.string());
        if (d.st_uid != 0)
            return make_error(ErrorCode::invalid_policy, "the " + w + "'s directory " + dir.string() + " is owned by uid " +
                                                             std::to_string(d.st_uid) + ", not root, who could replace the file");
        if ((d.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (d.st_mode & S_ISVTX) == 0)
            return make_error(ErrorCode::invalid_policy, "the " + w + "'s directory " + dir.string() +
                                                             " is writable by its group or by others");
        if (dir == dir.root_path() || dir.empty()) break;
    }
    return {};
}

// Only root could have written the file, or put it (or a link to it) where it was named: the file,
// the directories above it and those above the name it was given are all root's.
inline Status check_system_file(const struct stat& st, const std::string& path, const std::string& real_path,
                                std::string_view what) {
    const std::string w(what);
    if (Status s = check_anchor_file(st, real_path, what); !s) return s;
    if (st.st_uid != 0)
        return make_error(ErrorCode::invalid_policy, w + " is owned by uid " + std::to_string(st.st_uid) +
                                                         ", not root; a system-wide file must be root's (chown root)");
    if (Status s = check_root_chain(std::filesystem::path(real_path).parent_path(), w); !s) return s;
    std::string named_dir = std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
    char* real_dir = ::realpath(named_dir.c_str(), nullptr);
    if (!real_dir)
        return make_error(ErrorCode::io_error, "cannot resolve " + named_dir + ": " + std::strerror(errno), named_dir);
    std::string resolved = real_dir;
    std::free(real_dir);
    return check_root_chain(resolved, w);
}

inline Result<std::string> read_all(int fd, std::size_t limit, const std::string& path, std::string_view what) {
    std::string text;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return make_error(ErrorCode::io_error, "cannot read the " + std::string(what) + ": " + std::strerror(errno),
                              path);
        if (n == 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > limit)
            return make_error(ErrorCode::invalid_policy,
                              "the " + std::string(what) + " is larger than " + std::to_string(limit) + " bytes", path);
    }
}

CORDON_FUNC Result<InputFile> read_input_file(const std::string& path, std::size_t limit, FileTrust trust,
                                              std::string_view what) {
    try {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            return make_error(ErrorCode::io_error, "cannot open the " + std::string(what) + ": " + std::strerror(errno),
                              path);
        struct Closer {
            int fd;
            ~Closer() { ::close(fd); }
        } closer{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0)
            return make_error(ErrorCode::io_error, "cannot stat the " + std::string(what) + ": " + std::strerror(errno),
                              path);
        if (S_ISDIR(st.st_mode)) {  // with what reading it says (EISDIR), as cat would
            char c;
            const int err = ::read(fd, &c, 1) < 0 ? errno : EISDIR;
            return make_error(ErrorCode::invalid_policy, "the " + std::string(what) + " is a directory (" +
                                                             std::strerror(err) + "), not a regular file", path);
        }
        if (!S_ISREG(st.st_mode))
            return make_error(ErrorCode::invalid_policy,
                              "the " + std::string(what) + " is " + file_kind(st.st_mode) + ", not a regular file", path);
        InputFile out;
        out.identity = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
        out.owner = static_cast<std::uint32_t>(st.st_uid);
        // The name of what was opened, not of what `path` names now.
        out.real_path = open_file_path(fd);
        if (out.real_path.empty()) {
            std::string fd_link = "/proc/self/fd/" + std::to_string(fd);
            char* real = ::realpath(fd_link.c_str(), nullptr);
            if (!real) real = ::realpath(path.c_str(), nullptr);  // no /proc (macOS)
            if (!real)
                return make_error(ErrorCode::io_error,
                                  "cannot resolve the " + std::string(what) + "'s path: " + std::strerror(errno), path);
            out.real_path = real;
            std::free(real);
        }
        if (trust != FileTrust::any)
            if (Status s = trust == FileTrust::system ? check_system_file(st, path, out.real_path, what)
                                                      : check_anchor_file(st, out.real_path, what);
                !s) {
                Error e = s.error();
                if (e.where.empty()) e.where = path;
                return e;
            }
        auto text = read_all(fd, limit, path, what);
        if (!text) return text.error();
        out.text = std::move(*text);
        return out;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, "while reading the " + std::string(what) + ": " + e.what(), path);
    }
}

#else  // _WIN32: a regular file by type (a named pipe is refused); no ACL or link checks yet

CORDON_FUNC std::string open_file_path(int) { return {}; }

CORDON_FUNC Result<InputFile> read_input_file(const std::string& path, std::size_t limit, FileTrust,
                                              std::string_view what) {
    try {
        std::error_code ec;
        auto status = std::filesystem::status(path, ec);
        if (ec) return make_error(ErrorCode::io_error, "cannot open the " + std::string(what) + ": " + ec.message(), path);
        if (std::filesystem::is_directory(status))
            return make_error(ErrorCode::invalid_policy,
                              "the " + std::string(what) + " is a directory (" +
                                  std::make_error_code(std::errc::is_a_directory).message() + "), not a regular file",
                              path);
        if (!std::filesystem::is_regular_file(status))
            return make_error(ErrorCode::invalid_policy, "the " + std::string(what) + " is not a regular file", path);
        std::ifstream in(path, std::ios::binary);
        if (!in) return make_error(ErrorCode::io_error, "cannot open the " + std::string(what) + " for reading", path);
        InputFile out;
        char buffer[65536];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            out.text.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (out.text.size() > limit)
                return make_error(ErrorCode::invalid_policy,
                                  "the " + std::string(what) + " is larger than " + std::to_string(limit) + " bytes",
                                  path);
        }
        if (in.bad()) return make_error(ErrorCode::io_error, "error while reading the " + std::string(what), path);
        return out;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, "while reading the " + std::string(what) + ": " + e.what(), path);
    }
}

#endif

}  // namespace cordon::detail
