// SPDX-License-Identifier: MIT
// cordon: the MXC config contracts, as data: version string, family, closed schema, which fields exist.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/detail/embedded_schemas.hpp"
#include "cordon/enum_names.hpp"

namespace cordon {

/// The two wire shapes of the network, each with its own codec (mxc_codec.hpp). `legacy`:
/// `defaultPolicy`, host lists, `network.proxy`, and an absent `env` is empty. `directional`:
/// `network.egress` / `ingress`, `runtimeConfig.networkProxy`, and an absent `env` is the
/// backend's default. 0.8.0-alpha is legacy with the directional fields added (never mixed).
enum class ContractFamily : std::uint8_t { legacy, directional };

template <>
struct EnumNames<ContractFamily> {
    static constexpr std::array<EnumName<ContractFamily>, 2> table{
        {{"legacy", ContractFamily::legacy}, {"directional", ContractFamily::directional}}};
};

/// One MXC config contract. Adding a contract means adding a schema file and a row here; the
/// codecs read these flags instead of growing a copy per version. The flags are measured with
/// the executors (../shared/reference/mxc/contract-enumeration.json).
struct Contract {
    std::string_view version;  ///< exact `version` string; executors >= 0.9.0 compare it verbatim
    ContractFamily family;
    std::string_view schema;    ///< closed JSON Schema (draft-07), embedded from schemas/; empty: none
    bool development;           ///< registered by executors but unstable: cordon refuses it
    bool emitted;               ///< cordon may emit it (0.8.0-alpha: read and checked only; no
                                ///< capability row measures its hybrid network semantics)
    bool annotations;           ///< root `$schema` / `_comment` accepted (and ignored)
    bool seatbelt;              ///< `seatbelt` section and containment
    bool aliases;               ///< `appContainer`, containment `appcontainer` (with seatbelt: `macos_sandbox`)
    bool legacy_network;        ///< `defaultPolicy`, `enforcementMode`, host lists, `allowLocalNetwork`, `proxy`
    bool directional_network;   ///< `network.egress` / `ingress`, `runtimeConfig`, `processContainer.network`
    bool process_container_08;  ///< `processContainer.learningMode` / `captureDenials` / `network`
    bool windows_09;            ///< `telemetry`, `wslc`, containment `isolation_session` / `wslc`,
                                ///< `processContainer.filesystem`
    bool inherit_default_env;   ///< `process.inheritDefaultEnv`; an absent `env` is the backend default
    bool seatbelt_launch_method;  ///< `seatbelt.launchMethod`
};

// clang-format off
// version, family, schema, development, emitted, annotations, seatbelt, aliases, legacy net, directional
// net, processContainer 0.8, Windows 0.9, inheritDefaultEnv, launchMethod
inline constexpr Contract contract_0_6_0_alpha{"0.6.0-alpha", ContractFamily::legacy, detail::schema_mxc_config_0_6_0_alpha,
    false, true, false, false, true, true, false, false, false, false, false};
/// 0.6.0-alpha plus annotations and macOS Seatbelt; needed for the macOS `process` intent from SDK 0.9.0 on.
inline constexpr Contract contract_0_7_0_alpha{"0.7.0-alpha", ContractFamily::legacy, detail::schema_mxc_config_0_7_0_alpha,
    false, true, true, true, true, true, false, false, false, false, true};
/// 0.7.0-alpha plus the directional fields (not mixable with the legacy ones) and runtimeConfig.
inline constexpr Contract contract_0_8_0_alpha{"0.8.0-alpha", ContractFamily::legacy, detail::schema_mxc_config_0_8_0_alpha,
    false, false, true, true, true, true, true, true, false, false, true};
/// Directional only; accepted by SDK 0.9.0 and 1.0.1 alike (the one contract both accept).
inline constexpr Contract contract_0_9_0_alpha{"0.9.0-alpha", ContractFamily::directional, detail::schema_mxc_config_0_9_0_alpha,
    false, true, true, true, true, false, true, true, true, true, false};
/// 0.9.0-alpha without the legacy aliases; what SDK 1.0.1 itself emits.
inline constexpr Contract contract_1_0_0{"1.0.0", ContractFamily::directional, detail::schema_mxc_config_1_0_0,
    false, true, true, true, false, false, true, true, true, true, false};
/// Development contracts the executors register (0.10.0-alpha: SDK 0.9.0; 1.1.0-alpha: SDK 1.0.1).
inline constexpr Contract contract_0_10_0_alpha{"0.10.0-alpha", ContractFamily::directional, "",
    true, false, true, true, true, false, true, true, true, true, false};
inline constexpr Contract contract_1_1_0_alpha{"1.1.0-alpha", ContractFamily::directional, "",
    true, false, true, true, false, false, true, true, true, true, false};
// clang-format on

/// Every contract cordon knows, oldest first (emission prefers the last one that fits).
inline constexpr std::array<const Contract*, 7> all_contracts{&contract_0_6_0_alpha, &contract_0_7_0_alpha,
                                                              &contract_0_8_0_alpha, &contract_0_9_0_alpha,
                                                              &contract_1_0_0,       &contract_0_10_0_alpha,
                                                              &contract_1_1_0_alpha};
/// The contracts cordon reads, checks and emits (not the development ones), oldest first.
inline constexpr std::array<const Contract*, 5> known_contracts{&contract_0_6_0_alpha, &contract_0_7_0_alpha,
                                                                &contract_0_8_0_alpha, &contract_0_9_0_alpha,
                                                                &contract_1_0_0};
/// The newest contract cordon emits by default (SDK 1.0.1); Runner picks per executor.
inline constexpr const Contract& pinned_contract = contract_1_0_0;

/// The contract with exactly this version string (development ones included), or nullptr.
constexpr const Contract* find_contract(std::string_view version) noexcept {
    for (const Contract* c : all_contracts)
        if (c->version == version) return c;
    return nullptr;
}

/// Position in all_contracts (newer contracts of one family come later), or all_contracts.size().
constexpr std::size_t contract_rank(const Contract& c) noexcept {
    std::size_t i = 0;
    while (i < all_contracts.size() && all_contracts[i]->version != c.version) ++i;
    return i;
}

}  // namespace cordon
