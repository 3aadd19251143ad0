// SPDX-License-Identifier: MIT
// cordon: host canonicalisation of a path (symlinks, junctions, 8.3 names), tri-state: canonical, absent or unknown.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <cstring>  // std::strerror
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/path.hpp"

namespace cordon {

/// What canonicalisation learned about a path. `unknown` always denies: a path that exists but
/// cannot be resolved (permission denied, symlink loop, dangling link) is never granted.
enum class Resolution : std::uint8_t { canonical, absent, unknown };

constexpr std::string_view to_string(Resolution r) noexcept {
    switch (r) {
        case Resolution::canonical: return "canonical";
        case Resolution::absent: return "absent";
        case Resolution::unknown: return "unknown";
    }
    return "?";
}

/// Type of the entry a canonical path names (`unknown` when absent, unresolved or not asked).
enum class EntryKind : std::uint8_t { unknown, directory, other };

struct Resolved {
    Resolution state = Resolution::unknown;
    /// canonical: the final path; absent: the canonical longest existing ancestor with the rest
    /// appended lexically (a file about to be created); unknown: the lexical normalisation of the input.
    Path path;
    EntryKind kind = EntryKind::unknown;
    std::string reason;  ///< why the state is unknown
};

/// Replaces a leading `~` (alone or followed by a separator) with the home directory ($HOME, or
/// %USERPROFILE% for Windows style). Other text is returned unchanged.
/// Errors: invalid-policy for `~user` forms and when the variable is unset or empty.
inline Result<std::string> expand_home(std::string_view text, PathStyle style = host_path_style()) {
    if (text.empty() || text[0] != '~') return std::string(text);
    bool sep = text.size() == 1 || text[1] == '/' || (style == PathStyle::windows && text[1] == '\\');
    if (!sep) return make_error(ErrorCode::invalid_policy, "only `~` and `~/` are expanded, not `~user`", std::string(text));
    const char* var = style == PathStyle::windows ? "USERPROFILE" : "HOME";
    const char* home = std::getenv(var);
    if (!home || !*home)
        return make_error(ErrorCode::invalid_policy, std::string("cannot expand `~`: ") + var + " is not set", std::string(text));
    return std::string(home) + std::string(text.substr(1));
}

namespace detail {

inline Resolved unresolved(Path lexical, std::string reason) {
    return Resolved{Resolution::unknown, std::move(lexical), EntryKind::unknown, std::move(reason)};
}

#if !defined(_WIN32)
// realpath(3) semantics, one component at a time so each failure gets its own state: ENOENT
// starts the lexical tail (absent), anything else that stops the walk is unknown.
inline Result<Resolved> canonical_posix(const std::string& text, const Path& lexical) {
    std::deque<std::string> pending;
    auto push_front_components = [&](std::string_view s) {
        std::vector<std::string> parts;
        while (!s.empty()) {
            auto cut = s.find('/');
            if (cut != 0) parts.emplace_back(s.substr(0, cut));
            if (cut == std::string_view::npos) break;
            s.remove_prefix(cut + 1);
        }
        pending.insert(pending.begin(), parts.begin(), parts.end());
    };
    push_front_components(text);
    std::string resolved;  // "" is the root
    std::size_t absent_depth = 0;
    int links = 0;
    auto pop = [&] { resolved.resize(resolved.rfind('/') == std::string::npos ? 0 : resolved.rfind('/')); };
    while (!pending.empty()) {
        std::string c = std::move(pending.front());
        pending.pop_front();
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (absent_depth > 0) --absent_depth;  // back towards existing ground
            pop();
            continue;
        }
        std::string next = resolved + "/" + c;
        if (absent_depth > 0) {
            resolved = std::move(next);
            ++absent_depth;
            continue;
        }
        struct stat st {};
        if (::lstat(next.c_str(), &st) != 0) {
            if (errno == ENOENT) {
                resolved = std::move(next);
                absent_depth = 1;
                continue;
            }
            return unresolved(lexical, next + ": " + std::strerror(errno));
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) return unresolved(lexical, next + ": too many levels of symbolic links (a loop)");
            struct stat target {};
            if (::stat(next.c_str(), &target) != 0) {
                if (errno == ENOENT)  // granting it would let the sandbox create whatever it points at
                    return unresolved(lexical, next + ": dangling symbolic link");
                return unresolved(lexical, next + ": " + std::strerror(errno));
            }
            std::string link(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n;
            while ((n = ::readlink(next.c_str(), link.data(), link.size())) >= static_cast<ssize_t>(link.size()))
                link.resize(link.size() * 2);
            if (n < 0) return unresolved(lexical, next + ": " + std::strerror(errno));
            link.resize(static_cast<std::size_t>(n));
            if (!link.empty() && link[0] == '/') resolved.clear();
            push_front_components(link);
            continue;
        }
        resolved = std::move(next);
    }
    auto path = Path::parse(resolved.empty() ? "/" : resolved, PathStyle::posix);
    if (!path) return unresolved(lexical, "resolved to an unusable path: " + path.error().message);
    if (absent_depth > 0) return Resolved{Resolution::absent, std::move(*path), EntryKind::unknown, {}};
    struct stat st {};
    EntryKind kind = EntryKind::unknown;
    if (::stat(path->str().c_str(), &st) == 0) kind = S_ISDIR(st.st_mode) ? EntryKind::directory : EntryKind::other;
    return Resolved{Resolution::canonical, std::move(*path), kind, {}};
}
#else
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

/// Canonicalises `text` on this host: `~` expansion, then POSIX realpath semantics (symlinks
/// resolved, `..` applied physically) or, on Windows, the final name of the opened path. A
/// non-existent path yields `absent`: its longest existing ancestor canonicalised, the rest
/// appended lexically. A path that exists but cannot be resolved yields `unknown` (never an error).
/// Errors: invalid-policy, `where` = the text, when it is not an acceptable absolute path.
inline Result<Resolved> canonical(std::string_view text) {
    try {
        auto expanded = expand_home(text, host_path_style());
        if (!expanded) return expanded.error();
        auto lexical = Path::parse(*expanded, host_path_style());
        if (!lexical) return lexical.error();
#if defined(_WIN32)
        return detail::canonical_windows(*lexical);
#else
        return detail::canonical_posix(*expanded, *lexical);
#endif
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while canonicalising: ") + e.what(), std::string(text));
    }
}

}  // namespace cordon
