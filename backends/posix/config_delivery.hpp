// SPDX-License-Identifier: MIT
// cordon POSIX runner: hand an MXC config to the executor through a descriptor, a private file or base64, never a shell.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/error.hpp"
#include "cordon/run_result.hpp"
#include "fd.hpp"

namespace cordon::posix {

/// A private copy of a config for `--config`: `<parent>/cordon-XXXXXX/config.json`, directory
/// 0700 and file 0600, created with O_CREAT|O_EXCL|O_NOFOLLOW; both removed when the object is
/// destroyed (also on early returns and after timeouts). Move-only.
class PrivateConfigFile {
public:
    /// `parent_dir` empty = the system temporary directory ($TMPDIR, else /tmp). With `owner`
    /// (the run's uid/gid when a root caller switches to it) both are handed to that user, who
    /// must read them. Errors: io_error naming the directory or file that could not be created or written.
    static Result<PrivateConfigFile> create(std::string_view contents, const std::string& parent_dir = {},
                                            const std::optional<RunAs>& owner = std::nullopt);

    const std::string& path() const noexcept { return path_; }
    const std::string& directory() const noexcept { return dir_; }

    PrivateConfigFile(PrivateConfigFile&& other) noexcept;
    PrivateConfigFile& operator=(PrivateConfigFile&& other) noexcept;
    PrivateConfigFile(const PrivateConfigFile&) = delete;
    PrivateConfigFile& operator=(const PrivateConfigFile&) = delete;
    ~PrivateConfigFile();

private:
    PrivateConfigFile() = default;
    void remove() noexcept;
    std::string dir_;
    std::string path_;
};

/// A read-only descriptor of the config that names nothing on a shared path: Linux, a memfd
/// sealed against every change (F_SEAL_WRITE|GROW|SHRINK|SEAL) and reopened read-only; elsewhere
/// (or where memfd_create is refused) a private file that is unlinked, with its directory, before
/// the executor starts. Nobody can swap or rewrite it, and nothing is left behind whatever
/// ends the process. The executor reads it as `/dev/fd/N`; its tree inherits the descriptor
/// (lxc-exec passes it on into the sandbox), which lets the command read its own config but not change it.
/// Errors: io_error naming the step that failed.
Result<Fd> sealed_config_descriptor(std::string_view contents, const std::string& parent_dir = {});

/// Refuses a private config file that a sandbox could reach: its directory inside one of the
/// config's own readwritePaths or readonlyPaths (compared after resolving symlinks). A grant of
/// a *concurrent* run cannot be seen from here: that is why the descriptor is the default.
/// Errors: invalid_policy with the grant's JSON pointer.
Status check_config_location(std::string_view config_json, const std::string& directory);

/// The executor arguments that deliver a config: {"--config", "/dev/fd/N"} (descriptor),
/// {"--config", <private file>} (file) or {"--config-base64", <base64>} (visible to local users
/// in argv). Keeps the descriptor or file alive.
class DeliveredConfig {
public:
    /// Errors: those of sealed_config_descriptor, PrivateConfigFile::create and check_config_location.
    static Result<DeliveredConfig> make(std::string_view config_json, ConfigDelivery how,
                                        const std::string& parent_dir = {},
                                        const std::optional<RunAs>& run_as = std::nullopt);
    const std::vector<std::string>& args() const noexcept { return args_; }
    /// The private file, when delivery is `file`.
    const PrivateConfigFile* file() const noexcept { return file_ ? &*file_ : nullptr; }
    /// The descriptor the executor must inherit at the same number, when delivery is `descriptor`; else -1.
    int descriptor() const noexcept { return fd_.get(); }

private:
    DeliveredConfig() = default;
    std::optional<PrivateConfigFile> file_;
    Fd fd_;
    std::vector<std::string> args_;
};

}  // namespace cordon::posix
