// SPDX-License-Identifier: MIT
// cordon POSIX runner: hand an MXC config to the executor through a private file or base64, never a shell.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/error.hpp"
#include "cordon/run_result.hpp"

namespace cordon::posix {

/// A private copy of a config for `--config`: `<parent>/cordon-XXXXXX/config.json`, directory
/// 0700 and file 0600, created with O_CREAT|O_EXCL|O_NOFOLLOW; both removed when the object is
/// destroyed (also on early returns and after timeouts). Move-only.
class PrivateConfigFile {
public:
    /// `parent_dir` empty = the system temporary directory ($TMPDIR, else /tmp).
    /// Errors: io_error naming the directory or file that could not be created or written.
    static Result<PrivateConfigFile> create(std::string_view contents, const std::string& parent_dir = {});

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

/// The executor arguments that deliver a config: {"--config", <private file>} (ConfigDelivery::file)
/// or {"--config-base64", <base64>} (visible to local users in argv). Keeps the file alive.
class DeliveredConfig {
public:
    /// Errors: those of PrivateConfigFile::create.
    static Result<DeliveredConfig> make(std::string_view config_json, ConfigDelivery how,
                                        const std::string& parent_dir = {});
    const std::vector<std::string>& args() const noexcept { return args_; }
    /// The private file, when delivery is `file`.
    const PrivateConfigFile* file() const noexcept { return file_ ? &*file_ : nullptr; }

private:
    DeliveredConfig() = default;
    std::optional<PrivateConfigFile> file_;
    std::vector<std::string> args_;
};

}  // namespace cordon::posix
