// SPDX-License-Identifier: MIT
// cordon: the MXC config contracts cordon speaks, as data (version string, closed schema, feature flags).
#pragma once

#include <array>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/detail/embedded_schemas.hpp"

namespace cordon {

/// One MXC config contract. Adding a contract means adding a schema file and a row here; the
/// parser and emitter read the feature flags instead of growing a copy per version.
struct Contract {
    std::string_view version;  ///< exact `version` string; executors >= 0.9.0 compare it verbatim
    std::string_view schema;   ///< closed JSON Schema (draft-07), embedded from schemas/
    bool annotations;          ///< root `$schema` / `_comment` accepted (and ignored)
    bool seatbelt;             ///< `seatbelt` section and containment (alias `macos_sandbox`)
};

/// The pinned contract: what cordon emits unless told otherwise (accepted by SDK 0.6.1 through 0.9.0).
inline constexpr Contract contract_0_6_0_alpha{"0.6.0-alpha", detail::schema_mxc_config_0_6_0_alpha, false, false};
/// 0.6.0-alpha plus annotations and macOS Seatbelt; needed for the macOS `process` intent from SDK 0.9.0 on.
inline constexpr Contract contract_0_7_0_alpha{"0.7.0-alpha", detail::schema_mxc_config_0_7_0_alpha, true, true};

inline constexpr std::array<const Contract*, 2> known_contracts{&contract_0_6_0_alpha, &contract_0_7_0_alpha};
inline constexpr const Contract& pinned_contract = contract_0_6_0_alpha;

/// The contract with exactly this version string, or nullptr.
constexpr const Contract* find_contract(std::string_view version) noexcept {
    for (const Contract* c : known_contracts)
        if (c->version == version) return c;
    return nullptr;
}

}  // namespace cordon
