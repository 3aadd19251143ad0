// SPDX-License-Identifier: MIT
// cordon: implementation of executor.hpp: the resolution order ($MXC_BIN_DIR, cordon's cache, the global npm package).
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "cordon/detail/npm_prefix.hpp"
#include "cordon/executor.hpp"

namespace cordon {

CORDON_FUNC std::optional<std::filesystem::path> executor_cache_root() {
    namespace fs = std::filesystem;
    if (auto root = detail::env_string("CORDON_MXC_CACHE")) return detail::path_from_utf8(*root);
#if defined(_WIN32)
    if (auto local = detail::env_string("LOCALAPPDATA")) return detail::path_from_utf8(*local) / "cordon" / "mxc";
#else
    if (auto xdg = detail::env_string("XDG_CACHE_HOME"); xdg && xdg->front() == '/')
        return fs::path(*xdg) / "cordon" / "mxc";
    if (auto home = detail::env_string("HOME")) return fs::path(*home) / ".cache" / "cordon" / "mxc";
#endif
    return std::nullopt;
}

CORDON_FUNC Result<ExecutorLocation> resolve_executor(const ExecutorSpec& spec) {
    namespace fs = std::filesystem;
    try {
        auto target = detail::resolve_target(spec);
        if (!target) return target.error();
        const std::string arch(to_string(target->arch));
        const std::string binary(target->file);

        if (!spec.explicit_path.empty()) {
            fs::path p = detail::absolute_or_same(spec.explicit_path);
            if (detail::is_file(p)) return ExecutorLocation{p, ExecutorSource::explicit_path};
            return make_error(ErrorCode::unavailable,
                              "the MXC executor named explicitly does not exist or is not a regular file; " +
                                  executor_install_hint(target->os),
                              p.string());
        }

        std::vector<std::string> looked;
        if (auto dir = detail::env_string("MXC_BIN_DIR")) {
            fs::path base = detail::absolute_or_same(detail::path_from_utf8(*dir));
            for (auto [p, source] : {std::pair{base / arch / binary, ExecutorSource::mxc_bin_dir_arch},
                                     std::pair{base / binary, ExecutorSource::mxc_bin_dir}}) {
                if (detail::is_file(p)) return ExecutorLocation{p, source};
                looked.push_back(p.string());
            }
        } else {
            looked.push_back("$MXC_BIN_DIR (not set)");
        }

        if (auto cache = executor_cache_root()) {
            for (const auto& sdk : detail::cache_sdk_versions(spec.sdk_version)) {
                fs::path p = detail::absolute_or_same(*cache / detail::path_from_utf8(sdk) / "bin" / arch / binary);
                if (detail::is_file(p)) return ExecutorLocation{p, ExecutorSource::cordon_cache};
                looked.push_back(p.string());
            }
        } else {
            looked.push_back("cordon's cache (neither CORDON_MXC_CACHE, XDG_CACHE_HOME nor HOME is set)");
        }

        if (auto prefix = detail::npm_global_prefix()) {
            fs::path p = detail::absolute_or_same(detail::npm_global_node_modules(*prefix) / "@microsoft" / "mxc-sdk" /
                                                  "bin" / arch / binary);
            if (detail::is_file(p)) return ExecutorLocation{p, ExecutorSource::npm_global};
            looked.push_back(p.string());
        } else {
            looked.push_back("global npm package (no npm prefix: npm_config_prefix unset, no npmrc prefix, no node on PATH)");
        }

        std::string where_looked;
        for (const auto& l : looked) where_looked += (where_looked.empty() ? "" : ", ") + l;
        return make_error(ErrorCode::unavailable,
                          "no MXC executor " + binary + " for " + target->os + "/" + arch + " found (looked in: " +
                              where_looked + "); " + executor_install_hint(target->os),
                          binary);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("resolving the MXC executor failed: ") + e.what());
    }
}

}  // namespace cordon
