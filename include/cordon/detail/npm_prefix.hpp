// SPDX-License-Identifier: MIT
// cordon: npm's global prefix, read from the environment and npmrc files the way npm does, without running npm.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cordon/config.hpp"

namespace cordon::detail {

namespace fs = std::filesystem;

/// A UTF-8 string as a path (on Windows the narrow constructor would use the ANSI code page).
inline fs::path path_from_utf8(const std::string& s) {
#if defined(_WIN32)
#if defined(__cpp_char8_t)
    return fs::path(std::u8string(s.begin(), s.end()));
#else
    return fs::u8path(s);
#endif
#else
    return fs::path(s);
#endif
}

/// An environment variable, or nullopt when unset or empty.
inline std::optional<std::string> env_string(const char* name) {
#if defined(_WIN32)
    // Windows variables are UTF-16; go through the path type to get UTF-8.
    std::wstring wname(name, name + std::char_traits<char>::length(name));
    const wchar_t* v = ::_wgetenv(wname.c_str());
    if (v == nullptr || *v == L'\0') return std::nullopt;
    auto u8 = fs::path(v).u8string();
    return std::string(u8.begin(), u8.end());
#else
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
#endif
}

/// The user's home directory ($HOME, or %USERPROFILE% on Windows), or nullopt.
inline std::optional<fs::path> home_directory() {
#if defined(_WIN32)
    auto h = env_string("USERPROFILE");
#else
    auto h = env_string("HOME");
#endif
    if (!h) return std::nullopt;
    return path_from_utf8(*h);
}

/// npm's `${VAR}` substitution in npmrc values (`${VAR?}` = empty when unset). nullopt when a
/// variable is unset: npm refuses such a value, and so do we.
inline std::optional<std::string> expand_npmrc_env(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size();) {
        if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '$') {  // escaped: keep literally
            out += "${";
            i += 3;
            continue;
        }
        if (value.compare(i, 2, "${") == 0) {
            std::size_t end = value.find('}', i + 2);
            if (end == std::string_view::npos) return std::nullopt;
            std::string name(value.substr(i + 2, end - i - 2));
            bool optional = !name.empty() && name.back() == '?';
            if (optional) name.pop_back();
            auto v = env_string(name.c_str());
            if (!v && !optional) return std::nullopt;
            if (v) out += *v;
            i = end + 1;
            continue;
        }
        out += value[i++];
    }
    return out;
}

/// The top-level `prefix` of an npmrc file (keys inside `[sections]` do not count), already
/// expanded. nullopt when the file is absent or has no usable prefix.
inline std::optional<std::string> npmrc_prefix(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::optional<std::string> found;
    bool in_section = false;
    std::string line;
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
        return s;
    };
    while (std::getline(in, line)) {
        std::string_view l = trim(line);
        if (l.empty() || l.front() == ';' || l.front() == '#') continue;
        if (l.front() == '[') {
            in_section = true;
            continue;
        }
        auto eq = l.find('=');
        if (eq == std::string_view::npos || in_section) continue;
        std::string_view key = trim(l.substr(0, eq));
        std::string_view value = trim(l.substr(eq + 1));
        if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front())
            key = key.substr(1, key.size() - 2);
        if (key != "prefix") continue;
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (value.empty()) continue;
        found = expand_npmrc_env(value);  // the last assignment wins, as in npm's ini parser
    }
    return found;
}

/// A program on $PATH (no shell, nothing run), with symlinks resolved.
inline std::optional<fs::path> find_on_path(std::string_view program) {
    auto path = env_string("PATH");
    if (!path) return std::nullopt;
#if defined(_WIN32)
    const char sep = ';';
#else
    const char sep = ':';
#endif
    std::string_view rest = *path;
    while (!rest.empty()) {
        auto cut = rest.find(sep);
        std::string dir(rest.substr(0, cut));
        rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
        if (dir.empty()) continue;
        std::error_code ec;
        fs::path candidate = path_from_utf8(dir) / std::string(program);
        if (fs::is_regular_file(candidate, ec)) {
            fs::path real = fs::canonical(candidate, ec);
            return ec ? candidate : real;
        }
    }
    return std::nullopt;
}

/// npm's default global prefix when no config sets one: $PREFIX, else derived from where `node` is
/// (POSIX: two levels up from the binary, under $DESTDIR if set; Windows: node's own folder).
inline std::optional<fs::path> npm_default_prefix() {
    if (auto p = env_string("PREFIX")) return path_from_utf8(*p);
#if defined(_WIN32)
    auto node = find_on_path("node.exe");
    if (!node) return std::nullopt;
    return node->parent_path();
#else
    auto node = find_on_path("node");
    if (!node) return std::nullopt;
    fs::path prefix = node->parent_path().parent_path();
    if (auto destdir = env_string("DESTDIR")) return fs::path(*destdir) / prefix.relative_path();
    return prefix;
#endif
}

/// npm's global prefix by npm's precedence: environment (`npm_config_prefix`), user npmrc,
/// global npmrc, npm's builtin npmrc, then the default. Reads a few small files; runs nothing.
inline std::optional<fs::path> npm_global_prefix() {
    auto as_path = [](const std::string& value) -> fs::path {
        if (value.size() >= 2 && value[0] == '~' && (value[1] == '/' || value[1] == '\\'))
            if (auto home = home_directory()) return *home / path_from_utf8(value.substr(2));
        return path_from_utf8(value);
    };
    for (const char* name : {"npm_config_prefix", "NPM_CONFIG_PREFIX"})
        if (auto v = env_string(name)) return as_path(*v);

    std::optional<fs::path> user_rc;
    if (auto v = env_string("npm_config_userconfig")) user_rc = as_path(*v);
    else if (auto w = env_string("NPM_CONFIG_USERCONFIG")) user_rc = as_path(*w);
    else if (auto home = home_directory()) user_rc = *home / ".npmrc";
    if (user_rc)
        if (auto p = npmrc_prefix(*user_rc)) return as_path(*p);

    auto fallback = npm_default_prefix();
    std::vector<fs::path> more_rcs;
    if (auto v = env_string("npm_config_globalconfig")) more_rcs.push_back(as_path(*v));
    else if (auto w = env_string("NPM_CONFIG_GLOBALCONFIG")) more_rcs.push_back(as_path(*w));
    else if (fallback) more_rcs.push_back(*fallback / "etc" / "npmrc");
    if (fallback) {  // the builtin npmrc ships inside npm itself (Windows: prefix=${APPDATA}\npm)
#if defined(_WIN32)
        more_rcs.push_back(*fallback / "node_modules" / "npm" / "npmrc");
#else
        more_rcs.push_back(*fallback / "lib" / "node_modules" / "npm" / "npmrc");
        more_rcs.push_back(fs::path("/usr/share/nodejs/npm/npmrc"));  // Debian's packaged npm
#endif
    }
    for (const auto& rc : more_rcs)
        if (auto p = npmrc_prefix(rc)) return as_path(*p);
    return fallback;
}

/// Where `npm install -g` puts packages under a prefix (POSIX `lib/node_modules`, Windows `node_modules`).
inline fs::path npm_global_node_modules(const fs::path& prefix) {
#if defined(_WIN32)
    return prefix / "node_modules";
#else
    return prefix / "lib" / "node_modules";
#endif
}

}  // namespace cordon::detail
