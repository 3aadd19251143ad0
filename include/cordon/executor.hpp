// SPDX-License-Identifier: MIT
// cordon: where the MXC executor is found: explicit path, $MXC_BIN_DIR, cordon's cache, the global npm package.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cordon/arch.hpp"
#include "cordon/enum_names.hpp"
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
enum class ExecutorSource : std::uint8_t { explicit_path, mxc_bin_dir_arch, mxc_bin_dir, npm_global, cordon_cache };

template <>
struct EnumNames<ExecutorSource> {
    static constexpr std::array<EnumName<ExecutorSource>, 5> table{{
        {"explicit path", ExecutorSource::explicit_path},
        {"$MXC_BIN_DIR/<arch>", ExecutorSource::mxc_bin_dir_arch},
        {"$MXC_BIN_DIR", ExecutorSource::mxc_bin_dir},
        {"global npm package", ExecutorSource::npm_global},
        {"cordon's cache", ExecutorSource::cordon_cache},
    }};
};

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
    return "install it with 'cordon setup' (downloads and verifies it into cordon's cache, where cordon finds it; "
           "from a source tree also 'eval \"$(scripts/setup_sandbox.sh --print-env)\"'), or "
           "'npm install -g @microsoft/mxc-sdk@" + sdk + "'";
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

/// The SDK versions to look for in the cache: `wanted`, or every installable pinned release,
/// cordon's default first.
inline std::vector<std::string> cache_sdk_versions(const std::string& wanted) {
    if (!wanted.empty()) return {wanted};
    std::vector<std::string> out{std::string(default_sdk_version)};
    for (const auto& r : sdk_releases)
        if (!r.tarball_sha256.empty() && r.version != default_sdk_version) out.emplace_back(r.version);
    return out;
}

}  // namespace detail

/// Where `cordon setup` (and scripts/setup_sandbox.sh / .ps1) place verified executors, as
/// `<root>/<sdk>/bin/<arch>/<executor>`: $CORDON_MXC_CACHE; else, on Windows,
/// %LOCALAPPDATA%\cordon\mxc; else $XDG_CACHE_HOME/cordon/mxc (when absolute); else
/// $HOME/.cache/cordon/mxc. nullopt when none of them is set.
CORDON_FUNC std::optional<std::filesystem::path> executor_cache_root();

/// Finds the executor file, in this order: `spec.explicit_path` (used alone when given);
/// `$MXC_BIN_DIR/<arch>/<binary>`; `$MXC_BIN_DIR/<binary>`; cordon's cache
/// `executor_cache_root()/<sdk>/bin/<arch>/<binary>` (the SDK of `spec`, else each pinned one,
/// the default first); the global npm prefix's `@microsoft/mxc-sdk/bin/<arch>/<binary>` (prefix
/// read from npm's environment and npmrc files, npm is never run). Whatever is found is still
/// verified against the pins before it runs. Errors: unavailable (message lists where it looked
/// and how to install).
CORDON_FUNC Result<ExecutorLocation> resolve_executor(const ExecutorSpec& spec = {});

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/executor.hpp"
#endif
