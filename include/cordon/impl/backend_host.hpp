// SPDX-License-Identifier: MIT
// cordon: implementation of backend_host.hpp (table checks, trusted module locations, dlopen/LoadLibraryExW).
#pragma once

#include <string>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cordon/backend_host.hpp"
#include "cordon/detail/capabilities_wire.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon {

namespace detail {

inline Status check_table(const cordon_backend_v1* table, std::string_view expected_name, const std::string& where) {
    if (!table) return make_error(ErrorCode::unavailable, "backend entry point returned no table", where);
    if (table->abi_version != CORDON_BACKEND_ABI_VERSION)
        return make_error(ErrorCode::unavailable,
                          "backend ABI version " + std::to_string(table->abi_version) + " is not the host's " +
                              std::to_string(CORDON_BACKEND_ABI_VERSION) + "; rebuild the backend",
                          where);
    if (table->struct_size < CORDON_BACKEND_V1_0_SIZE || !table->name || !table->capabilities || !table->run ||
        !table->free_buffer)
        return make_error(ErrorCode::unavailable, "backend table is incomplete", where);
    if (std::string_view(table->name) != expected_name)
        return make_error(ErrorCode::unavailable,
                          "module is backend '" + std::string(table->name) + "', expected '" +
                              std::string(expected_name) + "'",
                          where);
    return {};
}

#if !defined(_WIN32)
// A module in a directory others can write could be replaced by them, and loading it runs their
// code in our process: refuse anything writable by group/others or owned by another user. Once the
// directory and file pass, only their owner (root or us) could swap the file before dlopen.
inline Status check_trusted_location(const std::filesystem::path& file) {
    auto check = [](const std::filesystem::path& p, const char* what) -> Status {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0)
            return make_error(ErrorCode::unavailable, std::string(what) + " does not exist", p.string());
        if (S_ISLNK(st.st_mode)) {
            if (::stat(p.c_str(), &st) != 0)
                return make_error(ErrorCode::unavailable, std::string(what) + " is a dangling symlink", p.string());
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
            return make_error(ErrorCode::unavailable,
                              std::string(what) + " is writable by other users; refusing to load a backend from it",
                              p.string());
        if (st.st_uid != 0 && st.st_uid != ::geteuid())
            return make_error(ErrorCode::unavailable,
                              std::string(what) + " is owned by another user; refusing to load a backend from it",
                              p.string());
        return {};
    };
    std::filesystem::path dir = std::filesystem::absolute(file).parent_path();
    if (auto s = check(dir, "backend directory"); !s) return s;
    return check(file, "backend module");
}
#endif

}  // namespace detail

CORDON_FUNC Result<Capabilities> LoadedBackend::capabilities(std::string_view sdk_version) const {
    char* out = nullptr;
    std::size_t size = 0;
    std::string sdk(sdk_version);
    cordon_status status = table_->capabilities(sdk.c_str(), &out, &size);
    std::string text = out ? std::string(out, size) : std::string();
    if (out) table_->free_buffer(out);
    if (status == static_cast<cordon_status>(ErrorCode::backend_unsupported))
        return make_error(ErrorCode::backend_unsupported, "backend " + std::string(name()) +
                                                              " has no capability data for executor SDK " + sdk);
    if (status != 0) return make_error(ErrorCode::execution_failed, "backend capabilities() failed");
    return detail::capabilities_from_json(text);
}

CORDON_FUNC Result<RunResult> LoadedBackend::run(const detail::RunRequest& request) const {
    std::string payload = detail::encode_request(request);
    char* out = nullptr;
    std::size_t size = 0;
    cordon_status status = table_->run(payload.data(), payload.size(), &out, &size);
    if (!out || size == 0) {
        if (out) table_->free_buffer(out);
        return make_error(status ? ErrorCode::execution_failed : ErrorCode::internal,
                          "backend " + std::string(name()) + " returned no result");
    }
    // Decoded from the module's own buffer (no copy of the output: it may be output_limit per stream).
    struct Release {
        const cordon_backend_v1* table;
        char* buffer;
        ~Release() { table->free_buffer(buffer); }
    } release{table_, out};
    return detail::decode_result(std::string_view(out, size));
}

CORDON_FUNC Result<Policy> LoadedBackend::prepare(const Policy& policy, const Contract& contract) const {
    const bool has_prepare = table_->struct_size >= CORDON_BACKEND_V1_0_SIZE + sizeof(table_->prepare) && table_->prepare;
    if (!has_prepare) return policy;
    auto config = to_mxc_json(policy, contract);
    if (!config) return config.error();
    char* out = nullptr;
    std::size_t size = 0;
    cordon_status status = table_->prepare(config->data(), config->size(), &out, &size);
    std::string text = out ? std::string(out, size) : std::string();
    if (out) table_->free_buffer(out);
    if (status != 0) return detail::decode_prepare_error(text, status);
    // What comes back is checked as strictly as any config, and may not move to another contract
    // or containment: the host chose both.
    CheckOptions same;
    same.contract = &contract;
    auto adjusted = from_mxc_json(text, same);
    if (!adjusted)
        return make_error(ErrorCode::internal, "backend " + std::string(name()) + " prepared an unusable config: " +
                                                   adjusted.error().to_string());
    if (adjusted->effective_containment() != policy.effective_containment())
        return make_error(ErrorCode::internal, "backend " + std::string(name()) + " prepare changed the containment");
    // cordon's own run controls are in no MXC contract: they cross no wire and stay the host's.
    adjusted->run_as = policy.run_as;
    adjusted->limits = policy.limits;
    adjusted->allowed_domains = policy.allowed_domains;
    return adjusted;
}

CORDON_FUNC Status BackendRegistry::add(const cordon_backend_v1* table) {
    if (!table || !table->name) return make_error(ErrorCode::internal, "null backend table");
    auto backend = backend_from_string(table->name);
    if (!backend) return make_error(ErrorCode::invalid_policy, "unknown backend name", table->name);
    if (auto s = detail::check_table(table, table->name, table->name); !s) return s;
    for (auto& entry : static_) {
        if (entry.first == *backend) {
            entry.second = table;
            return {};
        }
    }
    static_.emplace_back(*backend, table);
    return {};
}

CORDON_FUNC Result<LoadedBackend> BackendRegistry::load_from(Backend backend, const std::filesystem::path& plugin_dir) const {
    for (const auto& entry : static_)
        if (entry.first == backend) return LoadedBackend(entry.second, nullptr);
    if (backend == Backend::session)
        return make_error(ErrorCode::unavailable, "no runner is registered for the session backend (Phase 2)");
    if (plugin_dir.empty())
        return make_error(ErrorCode::unavailable, "no backend directory configured and no backend registered for " +
                                                      std::string(to_string(backend)));
    return load_module(backend, plugin_dir / detail::module_file_name(backend));
}

CORDON_FUNC Result<LoadedBackend> BackendRegistry::load_module(Backend backend, const std::filesystem::path& file) {
    const std::string where = file.string();
#if defined(_WIN32)
    // Fully qualified path; dependencies only from the module's own directory and System32.
    HMODULE module = ::LoadLibraryExW(std::filesystem::absolute(file).wstring().c_str(), nullptr,
                                      LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!module)
        return make_error(ErrorCode::unavailable,
                          "cannot load backend module (Win32 error " + std::to_string(::GetLastError()) + ")", where);
    std::shared_ptr<void> handle(module, [](void* m) { ::FreeLibrary(static_cast<HMODULE>(m)); });
    auto entry = reinterpret_cast<cordon_backend_entry_v1_fn>(
        reinterpret_cast<void*>(::GetProcAddress(module, CORDON_BACKEND_ENTRY_SYMBOL)));
#else
    if (auto s = detail::check_trusted_location(file); !s) return s.error();
    // RTLD_LOCAL: the module's symbols stay out of the global namespace; RTLD_NOW: a missing
    // symbol fails here, not in the middle of a run.
    void* module = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char* why = ::dlerror();
        return make_error(ErrorCode::unavailable, std::string("cannot load backend module: ") + (why ? why : "?"),
                          where);
    }
    std::shared_ptr<void> handle(module, [](void* m) { ::dlclose(m); });
    auto entry = reinterpret_cast<cordon_backend_entry_v1_fn>(::dlsym(module, CORDON_BACKEND_ENTRY_SYMBOL));
#endif
    if (!entry)
        return make_error(ErrorCode::unavailable,
                          std::string("module does not export ") + CORDON_BACKEND_ENTRY_SYMBOL, where);
    const cordon_backend_v1* table = entry();
    if (auto s = detail::check_table(table, to_string(backend), where); !s) return s.error();
    return LoadedBackend(table, std::move(handle));
}

}  // namespace cordon
