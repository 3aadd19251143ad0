// SPDX-License-Identifier: MIT
// cordon: C++ helpers for writing a backend module: buffers, the exception firewall, capabilities, prepare.
#pragma once

#include <cstdlib>  // std::malloc, std::free
#include <cstring>  // std::memcpy
#include <exception>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/backend.hpp"
#include "cordon/backend_abi.h"
#include "cordon/capabilities.hpp"
#include "cordon/detail/capabilities_wire.hpp"
#include "cordon/detail/run_wire.hpp"
#include "cordon/error.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::backend_sdk {

/// Copies `text` into a malloc'd buffer the host releases through free_buffer.
inline cordon_status give(std::string_view text, char** out, std::size_t* out_size) noexcept {
    if (!out || !out_size) return static_cast<cordon_status>(ErrorCode::internal);
    *out = static_cast<char*>(std::malloc(text.size() + 1));
    if (!*out) return static_cast<cordon_status>(ErrorCode::internal);
    std::memcpy(*out, text.data(), text.size());
    (*out)[text.size()] = '\0';
    *out_size = text.size();
    return 0;
}

inline void free_buffer(char* buffer) noexcept { std::free(buffer); }

/// capabilities() of a backend: the core's own table row, so host and plugin cannot disagree.
inline cordon_status capabilities(Backend backend, const char* sdk_version, char** out, std::size_t* out_size) noexcept {
    try {
        auto row = capabilities_for(backend, sdk_version ? sdk_version : "");
        if (!row) {
            give("{}", out, out_size);
            return static_cast<cordon_status>(ErrorCode::backend_unsupported);
        }
        return give(detail::capabilities_to_json(*row), out, out_size);
    } catch (...) {
        return static_cast<cordon_status>(ErrorCode::internal);
    }
}

/// run() with the exception firewall: decodes the request, calls `body(request, result)`, and always
/// hands back a result object; no exception ever leaves the module (extern "C" must not throw).
template <class Body>
cordon_status run(const char* request, std::size_t request_size, char** out, std::size_t* out_size,
                  Body body) noexcept {
    RunResult result;
    Status status;
    try {
        auto decoded = detail::decode_request(std::string_view(request ? request : "", request ? request_size : 0));
        status = decoded ? body(*decoded, result) : Status(decoded.error());
    } catch (const std::exception& e) {
        status = make_error(ErrorCode::internal, std::string("backend failed: ") + e.what());
    } catch (...) {
        status = make_error(ErrorCode::internal, "backend failed with an unknown exception");
    }
    try {
        // Written straight into the buffer handed over: the output is encoded once, and freed as
        // soon as it is (a run keeps up to output_limit per stream; no copy of that is kept here).
        const std::string fields = detail::encode_result_fields(status, result);
        const std::size_t size = detail::encoded_result_size(fields, result);
        if (!out || !out_size || !(*out = static_cast<char*>(std::malloc(size + 1))))
            return static_cast<cordon_status>(ErrorCode::internal);
        detail::write_result(*out, fields, result)[0] = '\0';
        *out_size = size;
    } catch (...) {
        return static_cast<cordon_status>(ErrorCode::internal);
    }
    return status ? 0 : static_cast<cordon_status>(status.error().code);
}

/// A config decoded as strictly as any, adjusted by `body(policy, contract)` on the typed policy,
/// and emitted again at its own contract: the work of a backend's prepare().
template <class Body>
Result<std::string> prepare_config(std::string_view config, Body body) {
    auto policy = from_mxc_json(config);
    if (!policy) return policy.error();
    Violations none;
    const Contract* contract = detail::contract_of(boost::json::parse(boost::json::string_view(config.data(), config.size())), none);
    if (!contract) return make_error(ErrorCode::internal, "the config names no contract", "/version");
    if (Status s = body(*policy, *contract); !s) return s.error();
    return to_mxc_json(*policy, *contract);
}

/// prepare() with the exception firewall: prepare_config, then the adjusted config or the error
/// object handed back; no exception ever leaves the module.
template <class Body>
cordon_status prepare(const char* config, std::size_t config_size, char** out, std::size_t* out_size, Body body) noexcept {
    Result<std::string> prepared = make_error(ErrorCode::internal, "backend prepare failed with an unknown exception");
    try {
        prepared = prepare_config(std::string_view(config ? config : "", config ? config_size : 0), body);
    } catch (const std::exception& e) {
        prepared = make_error(ErrorCode::internal, std::string("backend prepare failed: ") + e.what());
    } catch (...) {
    }
    try {
        if (prepared) return give(*prepared, out, out_size);
        give(detail::encode_prepare_error(prepared.error()), out, out_size);
        return static_cast<cordon_status>(prepared.error().code);
    } catch (...) {
        return static_cast<cordon_status>(ErrorCode::internal);
    }
}

}  // namespace cordon::backend_sdk
