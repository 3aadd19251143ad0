// SPDX-License-Identifier: MIT
// cordon: implementation of detail/helper_tools.hpp.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/helper_tools.hpp"
#include "cordon/detail/trusted_dirs.hpp"

namespace cordon::detail {

#if !defined(_WIN32)

namespace helper_tools_impl {

inline std::string parent_of(const std::string& p) {
    auto cut = p.find_last_of('/');
    return cut == std::string::npos ? "." : cut == 0 ? "/" : p.substr(0, cut);
}

inline std::string canonical_dir(const std::string& dir) {
    char* real = ::realpath(dir.c_str(), nullptr);
    if (!real) return dir;
    std::string out = real;
    std::free(real);
    return out;
}

// execvp's choice: exists (links followed), a regular file, some execute bit.
inline bool exec_candidate(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

// The verdicts of one lookup on the directories its links pass through: the tools share a few
// (/usr/sbin, /etc/alternatives on Debian), and resolving and walking each again for every link
// cost a CLI call ~150 system calls (strace).
class DirVerdicts {
public:
    struct Verdict {
        std::string canonical;
        Status status;
    };
    Verdict of(const std::string& dir) {
        for (const auto& [seen, verdict] : seen_)
            if (seen == dir) return verdict;
        std::string canonical = canonical_dir(dir);
        Status status = check_root_only_dir(canonical, true);
        seen_.emplace_back(dir, Verdict{canonical, status});
        return {std::move(canonical), std::move(status)};
    }

private:
    std::vector<std::pair<std::string, Verdict>> seen_;
};

// Follows `tool.path` link by link; every directory holding a link or the file must be root-only,
// and the file root's and writable by root alone. Fills dirs, resolved and problem.
inline void check_chain(HelperTool& tool, DirVerdicts& verdicts) {
    std::string cur = tool.path;
    for (int hop = 0; hop < 40; ++hop) {
        const DirVerdicts::Verdict verdict = verdicts.of(parent_of(cur));
        const std::string& dir = verdict.canonical;
        if (std::find(tool.dirs.begin(), tool.dirs.end(), dir) == tool.dirs.end()) tool.dirs.push_back(dir);
        if (!verdict.status) {
            tool.problem = cur + " lies in " + verdict.status.error().to_string();
            return;
        }
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0) {
            tool.problem = "cannot stat " + cur + ": " + std::strerror(errno);
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
            ssize_t n = ::readlink(cur.c_str(), target.data(), target.size());
            if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
                tool.problem = "cannot read the link " + cur;
                return;
            }
            target.resize(static_cast<std::size_t>(n));
            cur = target.front() == '/' ? target : dir + "/" + target;
            continue;
        }
        tool.resolved = cur;
        if (st.st_uid != 0)
            tool.problem = cur + " is owned by uid " + std::to_string(st.st_uid) + ", not root, who could replace it";
        else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
            tool.problem = cur + " is writable by its group or by others, who could replace it";
        return;
    }
    tool.problem = tool.path + ": too many levels of symbolic links";
}

}  // namespace helper_tools_impl

CORDON_FUNC std::vector<HelperTool> find_helper_tools(const std::vector<std::string>& path_dirs, std::string_view names) {
    std::vector<HelperTool> out;
    helper_tools_impl::DirVerdicts verdicts;
    while (!names.empty()) {
        auto cut = names.find(' ');
        std::string name(names.substr(0, cut));
        names.remove_prefix(cut == std::string_view::npos ? names.size() : cut + 1);
        if (name.empty()) continue;
        HelperTool tool{name, {}, {}, {}, {}};
        for (const std::string& dir : path_dirs)
            if (helper_tools_impl::exec_candidate(dir + "/" + name)) {
                tool.path = dir + "/" + name;
                break;
            }
        if (tool.path.empty()) {
            std::string searched;
            for (const std::string& dir : path_dirs) searched += (searched.empty() ? "" : ":") + dir;
            tool.problem = "not installed in the executor's PATH (" + (searched.empty() ? "no trusted directory" : searched) + ")";
        } else {
            helper_tools_impl::check_chain(tool, verdicts);
        }
        out.push_back(std::move(tool));
    }
    return out;
}

CORDON_FUNC std::string device_problem(const std::string& path, const RunAs& who) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "cannot stat " + path + ": " + std::strerror(errno);
    if (!S_ISCHR(st.st_mode)) return path + " is not a character device";
    unsigned m = st.st_mode;
    unsigned bits = st.st_uid == who.uid ? (m >> 6) & 7u : st.st_gid == who.gid ? (m >> 3) & 7u : m & 7u;
    if (who.uid == 0 || (bits & 6u) == 6u) return {};
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", m & 07777u);
    return path + " (mode " + mode + ", uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid) +
           ") cannot be opened for reading and writing by uid " + std::to_string(who.uid) +
           ", the sandbox's user (distributions make it 0666: chmod 0666 " + path + ")";
}

#else

CORDON_FUNC std::string device_problem(const std::string&, const RunAs&) { return "devices are POSIX only"; }

CORDON_FUNC std::vector<HelperTool> find_helper_tools(const std::vector<std::string>&, std::string_view names) {
    std::vector<HelperTool> out;
    while (!names.empty()) {
        auto cut = names.find(' ');
        if (cut != 0) out.push_back(HelperTool{std::string(names.substr(0, cut)), {}, {}, {}, "helper programs are POSIX only"});
        names.remove_prefix(cut == std::string_view::npos ? names.size() : cut + 1);
    }
    return out;
}

#endif

CORDON_FUNC Status require_helper_tools(const std::vector<HelperTool>& tools, std::string_view need, std::string where) {
    for (const HelperTool& t : tools)
        if (!t.usable())
            return make_error(ErrorCode::backend_unsupported,
                              std::string(need) + " need '" + t.name + "', which the executor cannot use: " + t.problem +
                                  " (cordon probe lists the helper programs; scripts/install-deps.sh installs them)",
                              std::move(where));
    return {};
}

}  // namespace cordon::detail
