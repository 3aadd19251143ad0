// SPDX-License-Identifier: MIT
// cordon: where the MXC executor is found: explicit path, $MXC_BIN_DIR, the global npm package, in that order.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cordon/arch.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/pins.hpp"

namespace cordon {

static_assert(detail::sdk_release_index(default_sdk_version) < sdk_releases.size() &&
                  !sdk_releases[detail::sdk_release_index(default_sdk_version)].tarball_sha256.empty(),
              "cordon: default_sdk_version must be a pinned, installable SDK release");

/// Which executor is wanted. Empty fields mean: any pinned SDK version, the host OS, the host arch.
struct ExecutorSpec {
    std::filesystem::path explicit_path;  ///< from the embedding program or `--executor`; empty = search
    std::string sdk_version;              ///< e.g. "0.9.0"; empty = any SDK version cordon pins
    std::string os;                       ///< "linux", "win32", "darwin"; empty = host_os()
    std::optional<Arch> arch;             ///< empty = host_arch()
};

/// Which resolution step found the executor.
enum class ExecutorSource : std::uint8_t { explicit_path, mxc_bin_dir_arch, mxc_bin_dir, npm_global };

constexpr std::string_view to_string(ExecutorSource s) noexcept {
    switch (s) {
        case ExecutorSource::explicit_path: return "explicit path";
        case ExecutorSource::mxc_bin_dir_arch: return "$MXC_BIN_DIR/<arch>";
        case ExecutorSource::mxc_bin_dir: return "$MXC_BIN_DIR";
        case ExecutorSource::npm_global: return "global npm package";
    }
    return "?";
}

/// A resolved (not yet verified) executor file.
struct ExecutorLocation {
    std::filesystem::path path;  ///< absolute
    ExecutorSource source = ExecutorSource::explicit_path;
};

/// The exact command that installs the pinned executor, for messages (run from a cordon source tree).
inline std::string executor_install_hint(std::string_view os = host_os()) {
    std::string sdk(default_sdk_version);
    if (os == os_win32)
        return "install it with 'powershell -ExecutionPolicy Bypass -File scripts\\setup_sandbox.ps1' (sets MXC_BIN_DIR), "
               "or 'npm install -g @microsoft/mxc-sdk@" + sdk + "'";
    return "install it with 'eval \"$(scripts/setup_sandbox.sh --print-env)\"' (downloads, verifies and exports "
           "MXC_BIN_DIR), or 'npm install -g @microsoft/mxc-sdk@" + sdk + "'";
}

namespace detail {

// Both the OS and the architecture of a spec, defaults filled in, or the reason there are none.
struct ResolvedTarget {
    std::string os;
    Arch arch = Arch::x64;
    std::string_view file;
};

inline Result<ResolvedTarget> resolve_target(const ExecutorSpec& spec) {
    ResolvedTarget t;
    t.os = spec.os.empty() ? std::string(host_os()) : spec.os;
    auto file = executor_file_name(t.os);
    if (!file)
        return make_error(ErrorCode::unavailable,
                          "unknown OS '" + t.os + "' (MXC executors exist for linux, win32 and darwin)");
    t.file = *file;
    if (spec.arch) {
        t.arch = *spec.arch;
    } else {
        auto a = host_arch();
        if (!a) return a.error();
        t.arch = *a;
    }
    return t;
}

inline bool is_file(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

inline std::filesystem::path absolute_or_same(const std::filesystem::path& p) {
    std::error_code ec;
    auto a = std::filesystem::absolute(p, ec);
    return ec ? p : a;
}

}  // namespace detail

/// Finds the executor file, in this order: `spec.explicit_path` (used alone when given);
/// `$MXC_BIN_DIR/<arch>/<binary>`; `$MXC_BIN_DIR/<binary>`; the global npm prefix's
/// `@microsoft/mxc-sdk/bin/<arch>/<binary>` (prefix read from npm's environment and npmrc files,
/// npm is never run). Errors: unavailable (message lists where it looked and how to install).
CORDON_FUNC Result<ExecutorLocation> resolve_executor(const ExecutorSpec& spec = {});

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/executor.hpp"
#endif
