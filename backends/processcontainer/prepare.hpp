// SPDX-License-Identifier: MIT
// cordon processcontainer backend: the config and argv handed to wxc-exec.exe (portable, so tested on any host).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"
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

/// What prepare_policy changed, for tests and reports.
struct Preparation {
    std::optional<std::string> defaulted_cwd;  ///< set when cordon chose `process.cwd`
    std::vector<std::string> added_env;         ///< required variables cordon added (names)
};

/// The backend's prepare step (cordon_backend_v1::prepare) on the typed policy, for a config of
/// `contract`: `process.cwd` becomes the first existing granted directory when the caller gave
/// none (read-write grants first, then read-only): with an empty cwd, child launches from `cmd /c`
/// failed with "The current directory is invalid." on SDK 0.7.0; with no granted directory it
/// stays absent. An explicit environment (always under 0.9+, where cordon never lets the executor
/// pick it, unless `inheritDefaultEnv`) gets SYSTEMROOT and LOCALAPPDATA from `required` when it
/// lacks them (names compared case-insensitively, as Windows does): Windows cannot start the
/// container without them, and they are the host's system paths, not the user's environment.
/// Errors: invalid_policy (`where` = JSON pointer) for a containment other than processcontainer
/// or a commandLine over CreateProcessW's limit.
Result<Preparation> prepare_policy(Policy& policy, const Contract& contract, const DirectoryProbe& is_directory,
                                   const RequiredEnvironment& required = {});

struct PreparedConfig : Preparation {
    std::string json;  ///< the adjusted config, of the same contract
};

/// prepare_policy on a config: decoded as strictly as any (backend_sdk::prepare_config), adjusted,
/// emitted again at its own contract. Errors: also invalid_policy for a config that is not valid.
Result<PreparedConfig> prepare_config(std::string_view config_json, const DirectoryProbe& is_directory,
                                      const RequiredEnvironment& required = {});

/// wxc-exec's argv for a config delivered as a private file (`--config FILE`; also for
/// ConfigDelivery::descriptor, which Windows cannot pass) or inline
/// (`--config-base64 B64`, readable by every local user in process listings). Never
/// `--experimental` (processcontainer is not experimental) and never stdin (wxc-exec has no stdin mode).
std::vector<std::string> executor_arguments(const std::string& executor, ConfigDelivery delivery,
                                            const std::string& config_file_or_base64);

}  // namespace cordon::processcontainer
