// SPDX-License-Identifier: MIT
// cordon: implementation of detail/output_file.hpp.
#pragma once

#include <cerrno>
#include <cstring>
#include <exception>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/output_file.hpp"

namespace cordon::detail {

inline std::string temporary_sibling(const std::filesystem::path& target) {
    std::random_device random;
    return (target.parent_path() / ("." + target.filename().string() + ".cordon-" + std::to_string(random()))).string();
}

#if !defined(_WIN32)

/// The caller's own descriptors by name (`/dev/stdout`, `>(jq .)`'s `/dev/fd/63`): links that
/// only root can plant, to a pipe, terminal or file the caller already holds. Written through the
/// descriptor itself, at its offset: reopening `/proc/self/fd/1` of a file would start at byte 0.
inline std::optional<int> own_descriptor(const std::string& path) {
    if (path == "/dev/stdout") return 1;
    if (path == "/dev/stderr") return 2;
    for (const std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
        const std::string_view digits = std::string_view(path).substr((std::min)(prefix.size(), path.size()));
        if (path.compare(0, prefix.size(), prefix) != 0 || digits.empty() || digits.size() > 9 ||
            digits.find_first_not_of("0123456789") != std::string_view::npos)
            continue;
        return std::stoi(std::string(digits));
    }
    return std::nullopt;
}

inline Status io_failure(const char* what, const std::string& path) {
    return make_error(ErrorCode::io_error, std::string(what) + ": " + std::strerror(errno), path);
}

inline Status write_all(int fd, std::string_view bytes, const std::string& path) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_failure("cannot write", path);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

/// A character device is written in place: a file renamed over it would replace the node itself
/// (as root, `/dev/null`). Only root can make one (mknod), so no sandbox planted it.
inline Status write_in_place(const std::string& path, std::string_view bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return io_failure("cannot open for writing", path);
    struct stat st {};
    Status status;
    if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode))
        status = make_error(ErrorCode::io_error, "is not a character device", path);
    else if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        status = io_failure("cannot write", path);
    else
        status = write_all(fd, bytes, path);
    if (::close(fd) != 0 && status) status = io_failure("cannot write", path);
    return status;
}

/// /dev itself and /proc, /sys: what a rename there would replace is a device's link or node
/// (`/dev/stdin` as root), never a report. (/dev/shm and the like are ordinary directories.)
inline bool system_node_directory(const std::filesystem::path& normal) {
    const std::string parent = normal.parent_path().string();
    return parent == "/dev" || parent == "/proc" || parent == "/sys" || parent.rfind("/proc/", 0) == 0 ||
           parent.rfind("/sys/", 0) == 0;
}

// What write_file_replacing does with `target`: write a descriptor of ours (its number), a
// character device in place, or replace the name; refusals as errors.
struct TargetKind {
    std::optional<int> descriptor;
    bool device = false;
};
inline Result<TargetKind> classify_target(const std::filesystem::path& target, const std::string& path) {
    if (auto fd = own_descriptor(target.string())) {  // checked first: lstat of /dev/fd/N differs by OS
        if (::fcntl(*fd, F_GETFD) < 0) return make_error(ErrorCode::io_error, "is not an open descriptor", path);
        return TargetKind{fd, false};
    }
    struct stat st {};
    const bool exists = ::lstat(target.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) return make_error(ErrorCode::io_error, "is a directory", path);
    if (exists && S_ISCHR(st.st_mode)) return TargetKind{std::nullopt, true};
    // A FIFO is replaced like a file: a sandbox that can write the directory may have planted it.
    if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode))
        return make_error(ErrorCode::io_error, "is a block device or socket, not a file for a report", path);
    if (system_node_directory(target))
        return make_error(ErrorCode::io_error,
                          "is in /dev, /proc or /sys, where cordon writes only to a character device or to "
                          "its own descriptors (/dev/stdout, /dev/stderr, /dev/fd/N)",
                          path);
    return TargetKind{};
}

CORDON_FUNC Result<OutputTarget> check_output_target(const std::string& path) {
    try {
        const std::filesystem::path target = std::filesystem::absolute(path).lexically_normal();
        auto kind = classify_target(target, path);
        if (!kind) return kind.error();
        if (kind->descriptor) {
            const int mode = ::fcntl(*kind->descriptor, F_GETFL) & O_ACCMODE;
            if (mode != O_WRONLY && mode != O_RDWR)
                return make_error(ErrorCode::io_error, "is a descriptor not open for writing", path);
            return OutputTarget::in_place;
        }
        if (!kind->device) return OutputTarget::replaced;
        int fd = ::open(target.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return io_failure("cannot open for writing", path).error();
        ::close(fd);
        return OutputTarget::in_place;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::io_error, e.what(), path);
    }
}

CORDON_FUNC Status write_file_replacing(const std::string& path, std::string_view bytes) {
    try {
        const std::filesystem::path target = std::filesystem::absolute(path).lexically_normal();
        auto kind = classify_target(target, path);
        if (!kind) return kind.error();
        if (kind->descriptor) return write_all(*kind->descriptor, bytes, path);
        if (kind->device) return write_in_place(target, bytes);
        for (int attempt = 0; attempt < 16; ++attempt) {
            const std::string temp = temporary_sibling(target);
            int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0 && errno == EEXIST) continue;
            if (fd < 0) return io_failure("cannot create", path);
            Status written = write_all(fd, bytes, path);
            const bool closed = ::close(fd) == 0;
            if (written && (!closed || ::rename(temp.c_str(), target.c_str()) != 0)) written = io_failure("cannot write", path);
            if (!written) ::unlink(temp.c_str());
            return written;
        }
        return make_error(ErrorCode::io_error, "cannot create a unique temporary file beside it", path);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::io_error, e.what(), path);
    }
}

#else  // _WIN32: a new file, then a rename that replaces whatever the name held (a link included)

CORDON_FUNC Result<OutputTarget> check_output_target(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::absolute(path, ec);
    if (!ec && std::filesystem::is_directory(std::filesystem::symlink_status(target, ec)))
        return make_error(ErrorCode::io_error, "is a directory", path);
    return OutputTarget::replaced;
}

CORDON_FUNC Status write_file_replacing(const std::string& path, std::string_view bytes) {
    try {
        const std::filesystem::path target = std::filesystem::absolute(path);
        if (std::filesystem::is_directory(std::filesystem::symlink_status(target)))
            return make_error(ErrorCode::io_error, "is a directory", path);
        const std::string temp = temporary_sibling(target);
        {
            std::ofstream out(temp, std::ios::binary | std::ios::trunc);
            if (!(out << bytes)) return make_error(ErrorCode::io_error, "cannot write", path);
        }
        std::error_code ec;
        std::filesystem::rename(temp, target, ec);
        if (ec) {
            std::filesystem::remove(temp, ec);
            return make_error(ErrorCode::io_error, "cannot write: " + ec.message(), path);
        }
        return {};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::io_error, e.what(), path);
    }
}

#endif

}  // namespace cordon::detail
