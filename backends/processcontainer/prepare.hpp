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

/// The variables wxc-exec (0.9.0 and 1.0.1) requires in an explicit `process.env`: without them it
/// refuses to start a process container ("missing the required variable(s): SYSTEMROOT,
/// LOCALAPPDATA"; presence is what it checks). Filled from the host by the backend.
struct RequiredEnvironment {
    std::string system_root = "C:\\Windows";  ///< %SystemRoot%
    std::string local_app_data;                ///< %LOCALAPPDATA%
};

struct PreparedConfig {
    std::string json;                         ///< what wxc-exec receives
    std::optional<std::string> defaulted_cwd;  ///< set when cordon chose `process.cwd`
    std::vector<std::string> added_env;         ///< required variables cordon added (names)
};

/// The config wxc-exec receives: the host's (clamped, validated) config, with `process.cwd` set to
/// the first existing granted directory when the caller gave none (read-write grants first, then
/// read-only): with an empty cwd, child launches from `cmd /c` failed with "The current directory
/// is invalid." on SDK 0.7.0. With no granted directory the field stays absent. An explicit
/// `process.env` (always there under 0.9+: cordon never lets the executor pick the environment)
/// without `inheritDefaultEnv: true` gets SYSTEMROOT and LOCALAPPDATA from `required` when it lacks
/// them (names compared case-insensitively, as Windows does): Windows cannot start the container
/// without them, and they are the host's system paths, not the user's environment. The result is
/// validated again against its own contract.
/// Errors: invalid_policy (`where` = JSON pointer) for a config that is not valid, that selects a
/// containment other than processcontainer, or whose commandLine exceeds CreateProcessW's limit.
Result<PreparedConfig> prepare_config(std::string_view config_json, const DirectoryProbe& is_directory,
                                      const RequiredEnvironment& required = {});

/// wxc-exec's argv for a config delivered as a private file (`--config FILE`; also for
/// ConfigDelivery::descriptor, which Windows cannot pass) or inline
/// (`--config-base64 B64`, readable by every local user in process listings). Never
/// `--experimental` (processcontainer is not experimental) and never stdin (wxc-exec has no stdin mode).
std::vector<std::string> executor_arguments(const std::string& executor, ConfigDelivery delivery,
                                            const std::string& config_file_or_base64);

}  // namespace cordon::processcontainer
