// SPDX-License-Identifier: MIT
// cordon: implementation of detail/run_registry.hpp (entries locked with flock; NUL-separated records).
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if !defined(_WIN32)
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/detail/run_registry.hpp"
#include "cordon/path.hpp"

namespace cordon::detail {

inline RunRegistration& RunRegistration::operator=(RunRegistration&& o) noexcept {
    if (this != &o) {
        this->~RunRegistration();
        fd_ = o.fd_;
        path_ = std::move(o.path_);
        o.fd_ = -1;
    }
    return *this;
}

#if !defined(_WIN32)

inline RunRegistration::~RunRegistration() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // first: an unlocked entry is what a dead run leaves
    ::close(fd_);
}

// What a run registers: its read-write roots (what it can rename inside) and every path it relies
// on (grants and denials), each record "W\0path\0" or "P\0path\0".
struct RegisteredRun {
    std::string pid;
    std::vector<Path> writable;
    std::vector<Path> paths;
};

inline std::string registry_record(const Policy& p) {
    std::string out;
    for (const auto& w : p.filesystem.readwrite) out += std::string("W") + '\0' + w + '\0';
    for (const auto* list : {&p.filesystem.readwrite, &p.filesystem.readonly, &p.filesystem.denied})
        for (const auto& s : *list) out += std::string("P") + '\0' + s + '\0';
    return out;
}

inline RegisteredRun parse_record(const std::string& text, std::string pid) {
    RegisteredRun run{std::move(pid), {}, {}};
    std::size_t at = 0;
    while (at < text.size()) {
        auto kind_end = text.find('\0', at);
        auto path_end = kind_end == std::string::npos ? kind_end : text.find('\0', kind_end + 1);
        if (path_end == std::string::npos) break;
        auto path = Path::parse(text.substr(kind_end + 1, path_end - kind_end - 1), PathStyle::posix);
        if (path) (text.compare(at, kind_end - at, "W") == 0 ? run.writable : run.paths).push_back(std::move(*path));
        at = path_end + 1;
    }
    return run;
}

// Why `writer` could change one of `reader`'s paths: it can write that path's parent directory.
inline std::string conflict(const RegisteredRun& writer, const RegisteredRun& reader) {
    for (const Path& w : writer.writable)
        for (const Path& p : reader.paths)
            if (!p.is_root() && within(p.parent(), w)) return w.str() + " (writable) holds " + p.str();
    return {};
}

inline std::string read_fd(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    return text;
}

// The runs going on now; entries no process holds any more are removed.
inline std::vector<RegisteredRun> live_runs(const std::string& dir) {
    std::vector<RegisteredRun> runs;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return runs;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".run") != 0) continue;
        std::string path = dir + "/" + name;
        int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
            ::unlink(path.c_str());  // nobody holds it: a run that died
        } else {
            runs.push_back(parse_record(read_fd(fd), name.substr(0, name.find('-'))));
        }
        ::close(fd);
    }
    ::closedir(d);
    return runs;
}

inline Status private_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(ErrorCode::io_error, std::string("cannot create the run registry: ") + std::strerror(errno), dir);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error(ErrorCode::io_error, "the run registry is not a private directory of this user", dir);
    return {};
}

CORDON_FUNC std::string run_registry_dir() {
    if (::geteuid() == 0) return "/run/cordon/runs";
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/cordon-runs";
    return "/tmp/cordon-runs-" + std::to_string(::geteuid());
}

CORDON_FUNC Result<RunRegistration> register_run(const Policy& p, const std::string& dir) {
    if (::geteuid() == 0) ::mkdir(std::string(dir, 0, dir.find_last_of('/')).c_str(), 0755);
    if (Status s = private_dir(dir); !s) return s.error();
    const std::string lock_path = dir + "/.lock";
    int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        if (lock >= 0) ::close(lock);
        return make_error(ErrorCode::io_error, std::string("cannot lock the run registry: ") + std::strerror(errno), dir);
    }
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock};
    const std::string record = registry_record(p);
    RegisteredRun mine = parse_record(record, "this run");
    for (const RegisteredRun& other : live_runs(dir)) {
        std::string why = conflict(other, mine);
        if (why.empty()) why = conflict(mine, other);
        if (!why.empty())
            return make_error(ErrorCode::unavailable,
                              "another sandbox (cordon pid " + other.pid + ") is running where one could change the "
                                  "other's files: " + why + "; run them one after the other",
                              dir);
    }
    std::random_device random;
    std::string path = dir + "/" + std::to_string(::getpid()) + "-" + std::to_string(random()) + ".run";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(ErrorCode::io_error, std::string("cannot register the run: ") + std::strerror(errno), path);
    RunRegistration registration(fd, path);
    if (::flock(fd, LOCK_EX) != 0 ||
        ::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()))
        return make_error(ErrorCode::io_error, std::string("cannot register the run: ") + std::strerror(errno), path);
    return registration;
}

#else

inline RunRegistration::~RunRegistration() = default;
CORDON_FUNC std::string run_registry_dir() { return {}; }
CORDON_FUNC Result<RunRegistration> register_run(const Policy&, const std::string&) { return RunRegistration(); }

#endif

}  // namespace cordon::detail
