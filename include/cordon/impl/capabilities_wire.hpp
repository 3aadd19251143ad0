// SPDX-License-Identifier: MIT
// cordon: implementation of detail/capabilities_wire.hpp (Boost.JSON).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/backend.hpp"
#include "cordon/detail/capabilities_wire.hpp"

namespace cordon::detail {

inline boost::json::object capabilities_object(const Capabilities& c) {
    boost::json::array silent;
    for (const SilentPeer& p : c.silent_peers) silent.push_back(boost::json::array{p.cidr, p.why});
    return boost::json::object{
        {"backend", to_string(c.backend)},
        {"sdk_version", c.sdk_version},
        {"contracts", c.contracts},
        {"read_allowlist", c.read_allowlist},
        {"write_allowlist", c.write_allowlist},
        {"denied_paths", c.denied_paths},
        {"network_block", c.network_block},
        {"host_filtering", c.host_filtering},
        {"egress_rules", c.egress_rules},
        {"ingress", c.ingress},
        {"proxy_enforced", c.proxy_enforced},
        {"executor_timeout", c.executor_timeout},
        {"file_grants", c.file_grants},
        {"ui_limits", c.ui_limits},
        {"evidence", c.evidence == Evidence::measured ? "measured" : "assumed"},
        {"source", c.source},
        {"helper_dirs", c.helper_dirs},
        {"rename_guard", c.rename_guard == RenameGuard::object_bound     ? "object_bound"
                         : c.rename_guard == RenameGuard::bind_ancestors ? "bind_ancestors"
                                                                         : "none"},
        {"network_tools", c.network_tools},
        {"network_devices", c.network_devices},
        {"silent_peers", std::move(silent)},
        {"cancellation", c.cancellation},
        {"process_controls", c.process_controls},
        {"bind_mounts", c.bind_mounts},
    };
}

CORDON_FUNC std::string capabilities_to_json(const Capabilities& c) {
    return boost::json::serialize(capabilities_object(c));
}

CORDON_FUNC Result<Capabilities> capabilities_from_json(std::string_view text) {
    try {
        auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()));
        auto backend = backend_from_string(std::string_view(v.at("backend").as_string()));
        std::string sdk(v.at("sdk_version").as_string());
        if (!backend) return make_error(ErrorCode::execution_failed, "backend reported an unknown backend name");
        auto known = capabilities_for(*backend, sdk);
        if (!known)
            return make_error(ErrorCode::backend_unsupported, "cordon has no capability data for " +
                                                                  std::string(to_string(*backend)) + " with SDK " + sdk);
        if (boost::json::value(capabilities_object(*known)) != v)
            return make_error(ErrorCode::execution_failed, "backend reported capabilities that differ from cordon's table");
        return *known;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::execution_failed, std::string("backend reported malformed capabilities: ") + e.what());
    }
}

}  // namespace cordon::detail
