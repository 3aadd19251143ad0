// SPDX-License-Identifier: MIT
// cordon POSIX runner: private config files (mkdtemp 0700 + 0600) and --config-base64.
#include "config_delivery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

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

}  // namespace

Result<PrivateConfigFile> PrivateConfigFile::create(std::string_view contents, const std::string& parent_dir) {
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
    if (dir_errno != 0) {
        ::close(dir);
        return io_error("cannot make the private directory 0700", file.dir_, dir_errno);
    }
    int fd = ::openat(dir, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int open_errno = errno;
    ::close(dir);
    if (fd < 0) return io_error("cannot create the private config file", file.path_, open_errno);
    bool ok = ::fchmod(fd, 0600) == 0;
    for (std::size_t done = 0; ok && done < contents.size();) {
        ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else done += static_cast<std::size_t>(n);
    }
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
                                              const std::string& parent_dir) {
    DeliveredConfig d;
    if (how == ConfigDelivery::base64) {
        d.args_ = {"--config-base64", detail::base64_encode(config_json)};
        return d;
    }
    auto file = PrivateConfigFile::create(config_json, parent_dir);
    if (!file) return file.error();
    d.args_ = {"--config", file->path()};
    d.file_.emplace(std::move(*file));
    return d;
}

}  // namespace cordon::posix
