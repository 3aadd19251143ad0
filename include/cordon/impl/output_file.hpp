// SPDX-License-Identifier: MIT
// cordon: implementation of detail/output_file.hpp.
#pragma once

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
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

CORDON_FUNC Status write_file_replacing(const std::string& path, std::string_view bytes) {
    try {
        const std::filesystem::path target = std::filesystem::absolute(path);
        struct stat st {};
        if (::lstat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            return make_error(ErrorCode::io_error, "is a directory", path);
        for (int attempt = 0; attempt < 16; ++attempt) {
            const std::string temp = temporary_sibling(target);
            int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0 && errno == EEXIST) continue;
            if (fd < 0) return make_error(ErrorCode::io_error, std::string("cannot create: ") + std::strerror(errno), path);
            std::size_t done = 0;
            while (done < bytes.size()) {
                ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) break;
                done += static_cast<std::size_t>(n);
            }
            int write_errno = errno;
            bool ok = done == bytes.size() && ::close(fd) == 0;
            if (!ok || ::rename(temp.c_str(), target.c_str()) != 0) {
                int e = ok ? errno : write_errno;
                ::unlink(temp.c_str());
                return make_error(ErrorCode::io_error, std::string("cannot write: ") + std::strerror(e), path);
            }
            return {};
        }
        return make_error(ErrorCode::io_error, "cannot create a unique temporary file beside it", path);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::io_error, e.what(), path);
    }
}

#else  // _WIN32: a new file, then a rename that replaces whatever the name held (a link included)

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
