// SPDX-License-Identifier: MIT
// cordon: an absolute, lexically normalised path with an explicit style (POSIX or Windows) and within().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/detail/ordinal_upcase.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// How a path string is read. Explicit, so Windows rules run (and are tested) on every host.
enum class PathStyle : std::uint8_t { posix, windows };

template <>
struct EnumNames<PathStyle> {
    static constexpr std::array<EnumName<PathStyle>, 2> table{{{"posix", PathStyle::posix}, {"windows", PathStyle::windows}}};
};

/// The style of the machine cordon was compiled for.
constexpr PathStyle host_path_style() noexcept {
#if defined(_WIN32)
    return PathStyle::windows;
#else
    return PathStyle::posix;
#endif
}

/// An absolute path after lexical normalisation: one separator (`/`, or `\` on Windows), no `.`,
/// `..` resolved without climbing above the root, no trailing separator except on a root,
/// `\\?\C:\x` read as `C:\x` and `\\?\UNC\srv\share` as `\\srv\share`, drive letter upper-cased.
/// Lexical only: symlinks are the business of canonical() (canonical.hpp).
class Path {
public:
    /// Parses and normalises `text`.
    /// Errors: invalid-policy, `where` = the text, for anything that is not an unambiguous absolute
    /// path: empty, NUL, relative, and on Windows also drive-relative `C:x`, root-relative `\x`,
    /// device paths (`\\.\`, `\\?\GLOBALROOT`, volume GUIDs, `CON`, `NUL.txt`, `COM1`...), streams
    /// (`a:b`), components ending in dot or space, wildcard/control characters, invalid UTF-8.
    static Result<Path> parse(std::string_view text, PathStyle style);

    PathStyle style() const noexcept { return style_; }
    /// The normalised spelling (what cordon emits).
    const std::string& str() const noexcept { return text_; }
    /// The root: "/", "C:\" or "\\server\share\".
    std::string_view root() const noexcept { return std::string_view(text_).substr(0, root_len_); }
    bool is_root() const noexcept { return text_.size() == root_len_; }
    /// The components below the root, in order.
    std::vector<std::string_view> components() const {
        std::vector<std::string_view> out;
        std::string_view rest = std::string_view(text_).substr(root_len_);
        while (!rest.empty()) {
            auto cut = rest.find(separator());
            out.push_back(rest.substr(0, cut));
            if (cut == std::string_view::npos) break;
            rest.remove_prefix(cut + 1);
        }
        return out;
    }
    /// The last component ("" for a root).
    std::string_view filename() const noexcept {
        if (is_root()) return {};
        auto cut = text_.rfind(separator());
        return std::string_view(text_).substr(cut < root_len_ ? root_len_ : cut + 1);
    }
    /// The parent directory; a root is its own parent.
    Path parent() const {
        if (is_root()) return *this;
        auto cut = text_.rfind(separator());
        Path p = *this;
        p.text_.resize(cut < root_len_ ? root_len_ : cut);
        p.key_ = style_ == PathStyle::windows ? detail::ordinal_upper(p.text_) : std::string();
        return p;
    }
    /// `relative` appended below this path and normalised again (`..` cannot climb above the root).
    /// Errors: as parse(), naming the joined text.
    Result<Path> join(std::string_view relative) const {
        std::string joined = text_;
        if (!is_root()) joined += separator();
        joined += relative;
        return parse(joined, style_);
    }
    /// The comparison key: the text itself on POSIX, ordinal upper case on Windows.
    const std::string& key() const noexcept { return style_ == PathStyle::windows ? key_ : text_; }
    char separator() const noexcept { return style_ == PathStyle::windows ? '\\' : '/'; }

    friend bool operator==(const Path& a, const Path& b) noexcept {
        return a.style_ == b.style_ && a.key() == b.key();
    }
    friend bool operator!=(const Path& a, const Path& b) noexcept { return !(a == b); }

private:
    Path(PathStyle style, std::string text, std::size_t root_len)
        : style_(style), text_(std::move(text)), root_len_(root_len) {
        if (style_ == PathStyle::windows) key_ = detail::ordinal_upper(text_);
    }

    PathStyle style_ = PathStyle::posix;
    std::string text_;
    std::size_t root_len_ = 0;
    std::string key_;  // Windows only
};

/// True when `child` is `root` or lies below it, component-wise (`/home/ab` is not within
/// `/home/a`; `c:\USERS\me\x` is within `C:\Users\me`). Paths of different styles never are.
inline bool within(const Path& child, const Path& root) noexcept {
    if (child.style() != root.style()) return false;
    const std::string& c = child.key();
    const std::string& r = root.key();
    if (c.size() < r.size() || c.compare(0, r.size(), r) != 0) return false;
    if (c.size() == r.size() || root.is_root()) return true;
    return c[r.size()] == root.separator();
}

namespace detail {

inline Error path_error(std::string_view text, std::string message) {
    return make_error(ErrorCode::invalid_policy, std::move(message), std::string(text));
}

inline bool ascii_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

inline char ascii_upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 0x20) : c; }

inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    return true;
}

inline bool starts_with_ascii_i(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals_ascii(s.substr(0, prefix.size()), prefix);
}

// Win32 maps these names to devices in any directory, with any extension, ignoring trailing
// spaces before the extension ("NUL .txt"); the superscript digits are reserved too.
inline bool windows_reserved_name(std::string_view component) noexcept {
    std::string_view base = component.substr(0, component.find('.'));
    while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
    for (std::string_view name : {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"})
        if (iequals_ascii(base, name)) return true;
    for (std::string_view stem : {"COM", "LPT"}) {
        if (!starts_with_ascii_i(base, stem)) continue;
        std::string_view tail = base.substr(3);
        if (tail.size() == 1 && tail[0] >= '0' && tail[0] <= '9') return true;
        if (tail == "\xC2\xB9" || tail == "\xC2\xB2" || tail == "\xC2\xB3") return true;
    }
    return false;
}

// One component of a Windows path; `.` and `..` are handled by the caller.
inline Status check_windows_component(std::string_view text, std::string_view c) {
    for (char ch : c) {
        auto u = static_cast<unsigned char>(ch);
        if (ch == ':')
            return path_error(text, "component \"" + std::string(c) +
                                        "\" contains ':' (an alternate data stream; never a plain file name)");
        if (u < 0x20 || ch == '<' || ch == '>' || ch == '"' || ch == '|' || ch == '?' || ch == '*')
            return path_error(text, "component \"" + std::string(c) +
                                        "\" contains a character Windows does not allow in names (<>\"|?* or control)");
    }
    if (c.back() == '.' || c.back() == ' ')
        return path_error(text, "component \"" + std::string(c) +
                                    "\" ends in a dot or space, which Windows strips (it would alias another name)");
    if (windows_reserved_name(c))
        return path_error(text, "component \"" + std::string(c) + "\" is a reserved device name on Windows");
    return {};
}

// Splits `rest` at `sep` and applies `.`/`..`; `check` validates every other component.
template <class Check>
Status normalise_components(std::string_view rest, char sep,
                            std::vector<std::string_view>& out, Check check) {
    while (true) {
        auto cut = rest.find(sep);
        std::string_view c = rest.substr(0, cut);
        if (c.empty() || c == ".") {
        } else if (c == "..") {
            if (!out.empty()) out.pop_back();  // never above the root
        } else {
            if (Status s = check(c); !s) return s;
            out.push_back(c);
        }
        if (cut == std::string_view::npos) break;
        rest.remove_prefix(cut + 1);
    }
    return {};
}

// True when an absolute POSIX `text` is already normal (no empty, `.` or `..` component, no trailing
// separator): parse() then takes it as is. Canonical paths and cordon's own output always are.
inline bool posix_normal(std::string_view text) noexcept {
    if (text == "/") return true;
    for (std::size_t start = 1;;) {
        std::size_t cut = text.find('/', start);
        std::string_view c = text.substr(start, cut == std::string_view::npos ? cut : cut - start);
        if (c.empty() || c == "." || c == "..") return false;
        if (cut == std::string_view::npos) return true;
        start = cut + 1;
    }
}

inline std::string assemble(std::string root, const std::vector<std::string_view>& components, char sep) {
    std::string out = std::move(root);
    for (std::size_t i = 0; i < components.size(); ++i) {
        if (i) out += sep;
        out += components[i];
    }
    return out;
}

}  // namespace detail

inline Result<Path> Path::parse(std::string_view text, PathStyle style) {
    using detail::path_error;
    if (text.empty()) return path_error(text, "empty path");
    if (text.find('\0') != std::string_view::npos) return path_error(text, "path contains a NUL character");
    std::vector<std::string_view> parts;
    if (style == PathStyle::posix) {
        if (text[0] != '/')
            return path_error(text, text[0] == '~' ? "relative path (`~` is expanded only when canonicalising)"
                                                   : "relative path: an absolute path is required");
        if (detail::posix_normal(text)) return Path(style, std::string(text), 1);
        auto ok = [](std::string_view) { return Status{}; };
        if (Status s = detail::normalise_components(text, '/', parts, ok); !s) return s.error();
        return Path(style, detail::assemble("/", parts, '/'), 1);
    }

    if (!detail::valid_utf8(text)) return path_error(text, "path is not valid UTF-8");
    std::string s(text);
    for (char& ch : s)
        if (ch == '/') ch = '\\';
    std::string_view v(s);
    // Win32 long-path and device prefixes: accept only the two spellings that name an ordinary path.
    if (v.substr(0, 4) == "\\??\\") return path_error(text, "NT object-manager paths (\\??\\) are not supported");
    if (v.substr(0, 4) == "\\\\?\\") {
        std::string_view t = v.substr(4);
        if (detail::starts_with_ascii_i(t, "UNC\\")) {
            s = "\\\\" + std::string(t.substr(4));
        } else if (t.size() >= 3 && detail::ascii_alpha(t[0]) && t[1] == ':' && t[2] == '\\') {
            s = std::string(t);
        } else if (detail::starts_with_ascii_i(t, "GLOBALROOT")) {
            return path_error(text, "device path (\\\\?\\GLOBALROOT) is not supported");
        } else {
            return path_error(text, "device or volume path (\\\\?\\...) is not supported; use a drive or UNC path");
        }
        v = s;
    }
    auto check = [&](std::string_view c) { return detail::check_windows_component(text, c); };
    if (v.substr(0, 2) == "\\\\") {
        std::string_view rest = v.substr(2);
        auto cut = rest.find('\\');
        std::string_view server = rest.substr(0, cut);
        if (server == "." || server == "?")
            return path_error(text, "device path (\\\\.\\ or \\\\?\\) is not supported");
        if (server.empty() || cut == std::string_view::npos)
            return path_error(text, "UNC path needs a server and a share (\\\\server\\share)");
        rest.remove_prefix(cut + 1);
        cut = rest.find('\\');
        std::string_view share = rest.substr(0, cut);
        if (share.empty()) return path_error(text, "UNC path needs a server and a share (\\\\server\\share)");
        for (std::string_view c : {server, share}) {
            if (c == "..") return path_error(text, "UNC server or share cannot be \"..\"");
            if (Status st = check(c); !st) return st.error();
        }
        std::string root = "\\\\" + std::string(server) + "\\" + std::string(share) + "\\";
        std::string_view tail = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
        if (Status st = detail::normalise_components(tail, '\\', parts, check); !st) return st.error();
        std::size_t root_len = root.size();
        return Path(style, detail::assemble(std::move(root), parts, '\\'), root_len);
    }
    if (v.size() >= 2 && detail::ascii_alpha(v[0]) && v[1] == ':') {
        if (v.size() == 2 || v[2] != '\\')
            return path_error(text, "drive-relative path (C:foo is relative to that drive's current directory)");
        std::string root{detail::ascii_upper(v[0]), ':', '\\'};
        if (Status st = detail::normalise_components(v.substr(3), '\\', parts, check); !st) return st.error();
        return Path(style, detail::assemble(std::move(root), parts, '\\'), 3);
    }
    if (v[0] == '\\') return path_error(text, "root-relative path (\\foo is relative to the current drive)");
    return path_error(text, "relative path: an absolute path (C:\\..., \\\\server\\share\\...) is required");
}

}  // namespace cordon
