// SPDX-License-Identifier: MIT
// cordon: Policy <-> MXC config JSON, strict in both directions, and validate() for configs from elsewhere.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"
#include "cordon/violation.hpp"

namespace cordon {

/// Every violation of the config's own contract (named by its `version`), each with a JSON pointer.
/// Empty means valid. Syntax errors stop at the first one.
CORDON_FUNC Violations validate(std::string_view text);

/// Parses an MXC config strictly: anything `validate` reports is an invalid-policy Error whose
/// `where` is the JSON pointer of the first violation.
CORDON_FUNC Result<Policy> from_mxc_json(std::string_view text);

/// Emits `policy` as compact MXC config JSON for `contract`. Fails (invalid-policy) rather than emit
/// anything the contract lacks or an executor would reject; the result passes `validate`.
CORDON_FUNC Result<std::string> to_mxc_json(const Policy& policy, const Contract& contract = pinned_contract);

namespace detail {

/// The contract named by the document's `version`, or nullptr with a violation added.
CORDON_FUNC const Contract* contract_of(const boost::json::value& doc, Violations& out);

/// The typed decoder alone, without the schema (conformance tests compare the two gates).
CORDON_FUNC Policy decode_policy(const boost::json::value& doc, const Contract& contract, Violations& out);

}  // namespace detail
}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/mxc_json.hpp"
#endif
