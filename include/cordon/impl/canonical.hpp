// SPDX-License-Identifier: MIT
// cordon: implementation of canonical.hpp (POSIX realpath walk; Windows final names of open handles).
#pragma once

#include <cerrno>
#include <cstring>  // std::strerror
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <windows.h>  // no NOMINMAX/WIN32_LEAN_AND_MEAN: that is the embedder's choice
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/canonical.hpp"

namespace cordon {
namespace detail {

inline Resolved unresolved(Path lexical, std::string reason) {
    return Resolved{Resolution::unknown, std::move(lexical), EntryKind::unknown, std::move(reason)};
}

#if !defined(_WIN32)
inline PosixEntry posix_entry(const std::string& path) {
    PosixEntry e;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        e.error = errno;
        return e;
    }
    e.mode = st.st_mode;
    if (!S_ISLNK(st.st_mode)) return e;
    struct stat target {};
    if (::stat(path.c_str(), &target) != 0) e.target_error = errno;
    std::string link(static_cast<std::size_t>(st.st_size) + 1, '\0');
    ssize_t n;
    while ((n = ::readlink(path.c_str(), link.data(), link.size())) >= static_cast<ssize_t>(link.size()))
        link.resize(link.size() * 2);
    if (n < 0) {
        e.target_error = errno;
        return e;
    }
    link.resize(static_cast<std::size_t>(n));
    e.link = std::move(link);
    return e;
}
#endif

#if defined(_WIN32)
inline std::wstring widen(std::string_view s) {
    if (s.empty()) return {};
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), static_cast<int>(s.size()), nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n > 0 ? n : 0), L'\0');
    if (n > 0) MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), static_cast<int>(s.size()), out.data(), n);
    return out;
}

inline std::string narrow(const wchar_t* s, std::size_t len) {
    if (len == 0) return {};
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, static_cast<int>(len), nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
    if (n > 0) WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, static_cast<int>(len), out.data(), n, nullptr, nullptr);
    return out;
}

// The normalised path behind the long-path prefix, so MAX_PATH and Win32 name rewriting do not apply.
inline std::wstring long_path(const Path& p) {
    const std::string& s = p.str();
    if (s.size() >= 2 && s[0] == '\\' && s[1] == '\\') return L"\\\\?\\UNC\\" + widen(std::string_view(s).substr(2));
    return L"\\\\?\\" + widen(s);
}

// Opens the longest existing ancestor and asks for its final name (FILE_NAME_NORMALIZED |
// VOLUME_NAME_DOS), which collapses symlinks, junctions, 8.3 names and \\?\ prefixes.
inline Result<Resolved> canonical_windows(const Path& lexical) {
    Path probe = lexical;
    std::vector<std::string> tail;  // components below probe, innermost first
    for (;;) {
        std::wstring wide = long_path(probe);
        HANDLE h = CreateFileW(wide.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                               OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
        if (h == INVALID_HANDLE_VALUE) {
            DWORD e = GetLastError();
            if ((e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) && !probe.is_root()) {
                // The name exists but its target does not: a dangling link or junction.
                if (GetFileAttributesW(wide.c_str()) != INVALID_FILE_ATTRIBUTES)
                    return unresolved(lexical, probe.str() + ": dangling link or junction");
                tail.emplace_back(probe.filename());
                probe = probe.parent();
                continue;
            }
            if (e == ERROR_CANT_RESOLVE_FILENAME)
                return unresolved(lexical, probe.str() + ": too many levels of symbolic links (a loop)");
            return unresolved(lexical, probe.str() + ": cannot open (Windows error " + std::to_string(e) + ")");
        }
        std::wstring buffer(512, L'\0');
        DWORD n = GetFinalPathNameByHandleW(h, buffer.data(), static_cast<DWORD>(buffer.size()),
                                            FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
        if (n >= buffer.size()) {
            buffer.resize(n + 1);
            n = GetFinalPathNameByHandleW(h, buffer.data(), static_cast<DWORD>(buffer.size()),
                                          FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
        }
        BY_HANDLE_FILE_INFORMATION info{};
        bool have_info = GetFileInformationByHandle(h, &info) != 0;
        DWORD e = GetLastError();
        CloseHandle(h);
        if (n == 0 || n >= buffer.size())
            return unresolved(lexical, probe.str() + ": no final name (Windows error " + std::to_string(e) + ")");
        auto final_path = Path::parse(narrow(buffer.data(), n), PathStyle::windows);
        if (!final_path) return unresolved(lexical, "final name is not usable: " + final_path.error().message);
        Path out = std::move(*final_path);
        for (auto it = tail.rbegin(); it != tail.rend(); ++it) {
            auto joined = out.join(*it);
            if (!joined) return joined.error();
            out = std::move(*joined);
        }
        if (!tail.empty()) return Resolved{Resolution::absent, std::move(out), EntryKind::unknown, {}};
        EntryKind kind = !have_info ? EntryKind::unknown
                         : (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? EntryKind::directory
                                                                               : EntryKind::other;
        return Resolved{Resolution::canonical, std::move(out), kind, {}};
    }
}
#endif

}  // namespace detail

#if !defined(_WIN32)
CORDON_FUNC const detail::PosixEntry& PathResolver::entry(const std::string& path) {
    auto it = cache_.find(path);
    if (it == cache_.end()) it = cache_.emplace(path, detail::posix_entry(path)).first;
    return it->second;
}

namespace detail {
// Takes the next component off the front of `rest` ("" when only separators remain).
inline std::string_view next_component(std::string_view& rest) noexcept {
    std::size_t begin = rest.find_first_not_of('/');
    if (begin == std::string_view::npos) {
        rest = {};
        return {};
    }
    std::size_t end = rest.find('/', begin);
    std::string_view c = rest.substr(begin, end == std::string_view::npos ? end : end - begin);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return c;
}
}  // namespace detail

// realpath(3) semantics, one component at a time so each failure gets its own state: ENOENT
// starts the lexical tail (absent), anything else that stops the walk is unknown.
CORDON_FUNC Result<Resolved> PathResolver::resolve_posix(const std::string& text, const Path& lexical) {
    // Texts still to walk, the innermost link target last. They view `text` and link targets held
    // by cache_, whose entries stay put, so walking copies no component.
    std::vector<std::string_view> pending{text};
    auto more_pending = [&] {
        for (std::string_view rest : pending)
            if (rest.find_first_not_of('/') != std::string_view::npos) return true;
        return false;
    };
    std::string resolved;  // "" is the root; grows and shrinks in place
    resolved.reserve(text.size());
    std::size_t absent_depth = 0;
    int links = 0;
    mode_t last_mode = S_IFDIR;  // the root is a directory
    while (!pending.empty()) {
        std::string_view c = detail::next_component(pending.back());
        if (c.empty()) {
            pending.pop_back();
            continue;
        }
        if (c == ".") continue;
        if (c == "..") {
            if (absent_depth > 0) --absent_depth;  // back towards existing ground
            auto cut = resolved.rfind('/');
            resolved.resize(cut == std::string::npos ? 0 : cut);
            last_mode = S_IFDIR;
            continue;
        }
        const std::size_t parent_size = resolved.size();
        resolved += '/';
        resolved += c;
        if (absent_depth > 0) {
            ++absent_depth;
            continue;
        }
        const detail::PosixEntry& e = entry(resolved);
        if (e.error == ENOENT) {
            absent_depth = 1;
            continue;
        }
        if (e.error != 0) return detail::unresolved(lexical, resolved + ": " + std::strerror(e.error));
        if (S_ISLNK(e.mode)) {
            if (++links > 40)
                return detail::unresolved(lexical, resolved + ": too many levels of symbolic links (a loop)");
            if (e.target_error == ENOENT)  // granting it would let the sandbox create whatever it points at
                return detail::unresolved(lexical, resolved + ": dangling symbolic link");
            if (e.target_error != 0) return detail::unresolved(lexical, resolved + ": " + std::strerror(e.target_error));
            resolved.resize(!e.link.empty() && e.link[0] == '/' ? 0 : parent_size);
            pending.push_back(e.link);
            continue;
        }
        if (!S_ISDIR(e.mode) && more_pending())
            return detail::unresolved(lexical, resolved + ": " + std::strerror(ENOTDIR));
        last_mode = e.mode;
    }
    auto path = Path::parse(resolved.empty() ? "/" : resolved, PathStyle::posix);
    if (!path) return detail::unresolved(lexical, "resolved to an unusable path: " + path.error().message);
    if (absent_depth > 0) return Resolved{Resolution::absent, std::move(*path), EntryKind::unknown, {}};
    EntryKind kind = S_ISDIR(last_mode) ? EntryKind::directory : EntryKind::other;
    return Resolved{Resolution::canonical, std::move(*path), kind, {}};
}
#endif


CORDON_FUNC Result<Resolved> canonical(std::string_view text) { return PathResolver{}(text); }

CORDON_FUNC Result<Resolved> PathResolver::operator()(std::string_view text) {
    try {
        auto expanded = expand_home(text, host_path_style());
        if (!expanded) return expanded.error();
        auto lexical = Path::parse(*expanded, host_path_style());
        if (!lexical) return lexical.error();
#if defined(_WIN32)
        return detail::canonical_windows(*lexical);
#else
        return resolve_posix(*expanded, *lexical);
#endif
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while canonicalising: ") + e.what(), std::string(text));
    }
}

}  // namespace cordon
