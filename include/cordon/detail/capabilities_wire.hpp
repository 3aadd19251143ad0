// SPDX-License-Identifier: MIT
// cordon: Capabilities as JSON, for the backend ABI's capabilities() and `cordon probe --json`.
#pragma once

#include <string>
#include <string_view>

#include "cordon/capabilities.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon::detail {

/// One JSON object with every field of the row.
CORDON_FUNC std::string capabilities_to_json(const Capabilities& c);

/// The host trusts only its own table: a backend's answer is accepted when it names a row the core
/// knows and agrees with it field by field, so a plugin cannot claim enforcement it lacks.
CORDON_FUNC Result<Capabilities> capabilities_from_json(std::string_view text);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/capabilities_wire.hpp"
#endif
