// SPDX-License-Identifier: MIT
// cordon POSIX runner: sealed config descriptors, private config files (mkdtemp 0700 + 0600), --config-base64.
#include "config_delivery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <exception>
#include <system_error>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"

namespace cordon::posix {
namespace {

Error io_error(const std::string& what, const std::string& where, int err) {
    return make_error(ErrorCode::io_error, what + ": " + std::generic_category().message(err), where);
}

std::string temp_parent() {
    const char* tmp = std::getenv("TMPDIR");
    if (tmp && tmp[0] == '/') return tmp;
    return "/tmp";
}

bool write_all(int fd, std::string_view contents) {
    for (std::size_t done = 0; done < contents.size();) {
        ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// The same inode, read-only, through /proc (never through a name someone could swap).
void reopen_read_only(Fd& fd) {
#if defined(__linux__)
    int ro = ::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY | O_CLOEXEC);
    if (ro >= 0) fd.reset(ro);
#else
    (void)fd;  // elsewhere /dev/fd/N duplicates the descriptor, mode included
#endif
}

#if defined(__linux__) && defined(MFD_ALLOW_SEALING) && defined(F_ADD_SEALS)
Result<Fd> sealed_memfd(std::string_view contents) {
    Fd fd(::memfd_create("cordon-config", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return io_error("memfd_create", "memfd", errno);
    if (!write_all(fd.get(), contents)) return io_error("cannot write the config memfd", "memfd", errno);
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        return io_error("cannot seal the config memfd", "memfd", errno);
    reopen_read_only(fd);
    return fd;
}
#endif

// An O_EXCL file in a fresh 0700 directory, unlinked (with the directory) before anything is
// written to it: a name that existed only while empty, and a descriptor nobody else holds.
Result<Fd> unlinked_private_file(std::string_view contents, const std::string& parent_dir) {
    std::string dir = (parent_dir.empty() ? temp_parent() : parent_dir) + "/cordon-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) return io_error("cannot create a private directory", dir, errno);
    Fd fd(::open((dir + "/config.json").c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    int open_errno = errno;
    ::unlink((dir + "/config.json").c_str());
    ::rmdir(dir.c_str());
    if (!fd) return io_error("cannot create the private config file", dir + "/config.json", open_errno);
    if (::fchmod(fd.get(), 0600) != 0 || !write_all(fd.get(), contents) || ::lseek(fd.get(), 0, SEEK_SET) != 0)
        return io_error("cannot write the private config file", dir + "/config.json", errno);
    reopen_read_only(fd);
    return fd;
}

bool within(const std::string& path, const std::string& root) {
    if (root == "/") return true;
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

std::string resolved(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) return buf;
    return path;
}

}  // namespace

Result<Fd> sealed_config_descriptor(std::string_view contents, const std::string& parent_dir) {
    Result<Fd> fd = make_error(ErrorCode::io_error, "no descriptor delivery on this system");
#if defined(__linux__) && defined(MFD_ALLOW_SEALING) && defined(F_ADD_SEALS)
    fd = sealed_memfd(contents);  // refused on some old kernels and under seccomp: then the file
#endif
    if (!fd) fd = unlinked_private_file(contents, parent_dir);
    if (!fd) return fd;
    if (!lift_above_stdio(*fd)) return io_error("cannot move the config descriptor above 2", "config", errno);
    return fd;
}

Status check_config_location(std::string_view config_json, const std::string& directory) {
    boost::json::value config;
    try {
        config = boost::json::parse(boost::json::string_view(config_json.data(), config_json.size()));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::invalid_policy, std::string("the config is not JSON: ") + e.what());
    }
    const auto* fs = config.is_object() ? config.as_object().if_contains("filesystem") : nullptr;
    if (!fs || !fs->is_object()) return {};
    const std::string dir = resolved(directory);
    for (const char* field : {"readwritePaths", "readonlyPaths"}) {
        const auto* list = fs->as_object().if_contains(field);
        if (!list || !list->is_array()) continue;
        for (std::size_t i = 0; i < list->as_array().size(); ++i) {
            const auto& grant = list->as_array()[i];
            if (!grant.is_string()) continue;
            std::string root = resolved(std::string(grant.as_string()));
            if (within(dir, root))
                return make_error(ErrorCode::invalid_policy,
                                  "the private config file would lie in '" + dir + "', inside the grant '" + root +
                                      "', where the sandbox could read or replace it; use descriptor delivery, or a "
                                      "config directory outside every grant",
                                  std::string("/filesystem/") + field + "/" + std::to_string(i));
        }
    }
    return {};
}

Result<PrivateConfigFile> PrivateConfigFile::create(std::string_view contents, const std::string& parent_dir,
                                                    const std::optional<RunAs>& owner) {
    std::string templ = (parent_dir.empty() ? temp_parent() : parent_dir) + "/cordon-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return io_error("cannot create a private directory", templ, errno);

    PrivateConfigFile file;  // from here on, the destructor cleans up whatever exists
    file.dir_ = templ;
    file.path_ = templ + "/config.json";

    // mkdtemp asks for 0700 but the umask could take the owner's bits away; set it exactly.
    int dir = ::open(file.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) return io_error("cannot open the private directory", file.dir_, errno);
    struct stat st;
    int dir_errno = 0;
    if (::fstat(dir, &st) != 0) dir_errno = errno;
    else if (st.st_uid != ::geteuid()) dir_errno = EPERM;
    else if (::fchmod(dir, 0700) != 0) dir_errno = errno;
    else if (owner && ::fchown(dir, owner->uid, owner->gid) != 0) dir_errno = errno;
    if (dir_errno != 0) {
        ::close(dir);
        return io_error("cannot make the private directory 0700", file.dir_, dir_errno);
    }
    int fd = ::openat(dir, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int open_errno = errno;
    ::close(dir);
    if (fd < 0) return io_error("cannot create the private config file", file.path_, open_errno);
    bool ok = ::fchmod(fd, 0600) == 0 && (!owner || ::fchown(fd, owner->uid, owner->gid) == 0) &&
              write_all(fd, contents);
    int write_errno = errno;
    if (::close(fd) != 0 && ok) { ok = false; write_errno = errno; }
    if (!ok) return io_error("cannot write the private config file", file.path_, write_errno ? write_errno : EIO);
    return file;
}

PrivateConfigFile::PrivateConfigFile(PrivateConfigFile&& other) noexcept
    : dir_(std::exchange(other.dir_, {})), path_(std::exchange(other.path_, {})) {}

PrivateConfigFile& PrivateConfigFile::operator=(PrivateConfigFile&& other) noexcept {
    if (this != &other) {
        remove();
        dir_ = std::exchange(other.dir_, {});
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

PrivateConfigFile::~PrivateConfigFile() { remove(); }

void PrivateConfigFile::remove() noexcept {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
    path_.clear();
    dir_.clear();
}

Result<DeliveredConfig> DeliveredConfig::make(std::string_view config_json, ConfigDelivery how,
                                              const std::string& parent_dir, const std::optional<RunAs>& run_as) {
    DeliveredConfig d;
    if (how == ConfigDelivery::base64) {
        d.args_ = {"--config-base64", detail::base64_encode(config_json)};
        return d;
    }
    // Only a root caller switches users; then the run's user must be able to read the config.
    std::optional<RunAs> owner = ::geteuid() == 0 ? run_as : std::nullopt;
    if (how == ConfigDelivery::descriptor) {
        auto fd = sealed_config_descriptor(config_json, parent_dir);
        if (!fd) return fd.error();
        // The run's user reopens /dev/fd/N: an unlinked 0600 file must be its own (a memfd is 0777).
        if (owner && ::fchown(fd->get(), owner->uid, owner->gid) != 0)
            return io_error("cannot hand the config descriptor to uid " + std::to_string(owner->uid), "config", errno);
        d.fd_ = std::move(*fd);
        d.args_ = {"--config", "/dev/fd/" + std::to_string(d.fd_.get())};
        return d;
    }
    if (auto s = check_config_location(config_json, parent_dir.empty() ? temp_parent() : parent_dir); !s)
        return s.error();
    auto file = PrivateConfigFile::create(config_json, parent_dir, owner);
    if (!file) return file.error();
    d.args_ = {"--config", file->path()};
    d.file_.emplace(std::move(*file));
    return d;
}

}  // namespace cordon::posix
