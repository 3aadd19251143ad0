// SPDX-License-Identifier: MIT
// cordon: finding a backend: statically registered tables first, else a plugin module loaded from a
// trusted directory, checked for ABI version and name.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/backend.hpp"
#include "cordon/backend_abi.h"
#include "cordon/capabilities.hpp"
#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"

// The plugin directory of an installed (or Meson-built) cordon comes from the generated
// cordon/build_config.hpp; headers used straight from a source tree have none. An embedder may
// still define CORDON_DEFAULT_BACKEND_DIR itself (it is read in the embedder's own translation
// unit, by default_plugin_dir(), in both build modes).
#if __has_include("cordon/build_config.hpp")
#include "cordon/build_config.hpp"
#endif
#ifndef CORDON_DEFAULT_BACKEND_DIR
#ifdef CORDON_CONFIGURED_BACKEND_DIR
#define CORDON_DEFAULT_BACKEND_DIR CORDON_CONFIGURED_BACKEND_DIR
#else
#define CORDON_DEFAULT_BACKEND_DIR ""
#endif
#endif

namespace cordon {

/// A backend ready to call: its C table, and (for a module) the handle that keeps the code mapped.
/// Copies share the module; it is unloaded when the last copy goes.
class LoadedBackend {
public:
    LoadedBackend(const cordon_backend_v1* table, std::shared_ptr<void> module)
        : module_(std::move(module)), table_(table) {}

    std::string_view name() const { return table_->name; }

    /// The backend's capabilities with an executor of `sdk_version`, cross-checked with the core's table.
    Result<Capabilities> capabilities(std::string_view sdk_version) const;

    /// `policy` adjusted to what the backend's executor needs (its prepare(), ABI 1.1; unchanged when
    /// it has none), passed as a config of `contract` and checked as strictly on the way back.
    /// Errors: the backend's own (code and pointer), or internal for a reply that is not a config of
    /// that contract and containment.
    Result<Policy> prepare(const Policy& policy, const Contract& contract) const;
    /// Runs one request through the backend's C entry point.
    Result<RunResult> run(const detail::RunRequest& request) const;

private:
    std::shared_ptr<void> module_;  // declared first: destroyed last, after nothing can call table_
    const cordon_backend_v1* table_;
};

namespace detail {

/// Module file name of a backend inside a plugin directory.
inline std::string module_file_name(Backend backend) {
#if defined(_WIN32)
    return "cordon-backend-" + std::string(to_string(backend)) + ".dll";
#else
    return "cordon-backend-" + std::string(to_string(backend)) + ".so";
#endif
}

}  // namespace detail

/// Where backend modules are looked up. Statically linked backends registered with `add` win over
/// modules, so an embedder can ship a single binary.
class BackendRegistry {
public:
    /// Registers a statically linked backend (e.g. `registry.add(cordon_backend_bubblewrap_v1())`).
    Status add(const cordon_backend_v1* table);

    /// The directory configured at build time (`<libdir>/cordon/backends`), or empty.
    static std::filesystem::path default_plugin_dir() { return CORDON_DEFAULT_BACKEND_DIR; }

    /// A registered backend, else the module `cordon-backend-<name>` from `plugin_dir` (default: the
    /// install directory). Errors: unavailable (missing, untrusted location, wrong ABI, wrong name).
    Result<LoadedBackend> load(Backend backend, std::filesystem::path plugin_dir = {}) const {
        return load_from(backend, plugin_dir.empty() ? default_plugin_dir() : plugin_dir);
    }

private:
    Result<LoadedBackend> load_from(Backend backend, const std::filesystem::path& plugin_dir) const;
    static Result<LoadedBackend> load_module(Backend backend, const std::filesystem::path& file);

    std::vector<std::pair<Backend, const cordon_backend_v1*>> static_;
};

}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/backend_host.hpp"
#endif
