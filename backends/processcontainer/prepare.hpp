// SPDX-License-Identifier: MIT
// cordon processcontainer backend: the config and argv handed to wxc-exec.exe (portable, so tested on any host).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/error.hpp"
#include "cordon/run_result.hpp"

namespace cordon::processcontainer {

/// Answers "is this host path an existing directory?" (GetFileAttributesW on Windows; a stub in tests).
using DirectoryProbe = std::function<bool(const std::string& path)>;

struct PreparedConfig {
    std::string json;                         ///< what wxc-exec receives
    std::optional<std::string> defaulted_cwd;  ///< set when cordon chose `process.cwd`
};

/// The config wxc-exec receives: the host's (clamped, validated) config, with `process.cwd` set to
/// the first existing granted directory when the caller gave none (read-write grants first, then
/// read-only): with an empty cwd, child launches from `cmd /c` failed with "The current directory
/// is invalid." on SDK 0.7.0. With no granted directory the field stays absent. The result is
/// validated again against its own contract.
/// Errors: invalid_policy (`where` = JSON pointer) for a config that is not valid, that selects a
/// containment other than processcontainer, or whose commandLine exceeds CreateProcessW's limit.
Result<PreparedConfig> prepare_config(std::string_view config_json, const DirectoryProbe& is_directory);

/// wxc-exec's argv for a config delivered as a private file (`--config FILE`; also for
/// ConfigDelivery::descriptor, which Windows cannot pass) or inline
/// (`--config-base64 B64`, readable by every local user in process listings). Never
/// `--experimental` (processcontainer is not experimental) and never stdin (wxc-exec has no stdin mode).
std::vector<std::string> executor_arguments(const std::string& executor, ConfigDelivery delivery,
                                            const std::string& config_file_or_base64);

}  // namespace cordon::processcontainer
