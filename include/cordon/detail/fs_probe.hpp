// SPDX-License-Identifier: MIT
// cordon: two questions clamp asks the disk in canonical mode (is it a directory, how many names).
#pragma once

#include <cstdint>
#include <string>

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/stat.h>
#endif

namespace cordon::detail {

/// Whether `path` is a directory now (symlinks followed).
inline bool is_directory(const std::string& path) {
#if defined(_WIN32)
    DWORD a = ::GetFileAttributesA(path.c_str());
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY) != 0;
#else
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
#endif
}

/// How many hard links a non-directory at `path` has (1 when it does not exist, is a directory,
/// or cannot be examined: only a count above 1 means anything to the caller).
inline std::uint64_t link_count(const std::string& path) {
#if defined(_WIN32)
    HANDLE h = ::CreateFileA(path.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE) return 1;
    BY_HANDLE_FILE_INFORMATION info{};
    bool ok = ::GetFileInformationByHandle(h, &info) != 0;
    ::CloseHandle(h);
    return ok && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0 ? info.nNumberOfLinks : 1;
#else
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return 1;
    return static_cast<std::uint64_t>(st.st_nlink);
#endif
}

}  // namespace cordon::detail
