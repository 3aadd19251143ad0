// SPDX-License-Identifier: MIT
// cordon: Policy <-> MXC config JSON, strict in both directions, and validate() for configs from elsewhere.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/mxc_codec.hpp"
#include "cordon/policy.hpp"
#include "cordon/violation.hpp"

namespace cordon {

/// Which contracts a check admits. By default every contract some pinned executor accepts (a
/// development contract never: cordon neither reads nor emits those).
struct CheckOptions {
    /// Only the contracts executors of this SDK accept (pins.hpp), as strictly as that executor
    /// checks them; empty: any pinned SDK's.
    std::string_view sdk_version;
    /// Only this contract; nullptr: the one the document names.
    const Contract* contract = nullptr;
};

/// Every violation of the config's own contract (named by its `version`), each with a JSON pointer.
/// Empty means valid. Syntax errors stop at the first one.
CORDON_FUNC Violations validate(std::string_view text, const CheckOptions& options = {});

/// Parses an MXC config strictly: anything `validate` reports is an invalid-policy Error whose
/// `where` is the JSON pointer of the first violation.
CORDON_FUNC Result<Policy> from_mxc_json(std::string_view text, const CheckOptions& options = {});

/// Emits `policy` as compact MXC config JSON for `contract`. Fails (invalid-policy, `where` the
/// model's JSON pointer) rather than emit anything the contract lacks (inexpressible()), an entry
/// no executor can run (an `env` entry with an empty name: bubblewrap aborts on it) or anything an
/// executor would reject; the result passes `validate`.
CORDON_FUNC Result<std::string> to_mxc_json(const Policy& policy, const Contract& contract = pinned_contract);

/// The JSON pointer a model pointer (clamp reports, to_mxc_json errors: the directional wire's
/// spelling) has in a config of `contract`: "/network/egress/default" is "/network/defaultPolicy"
/// in a legacy config.
CORDON_FUNC std::string wire_pointer(const Contract& contract, std::string_view model_pointer);
/// The inverse: the model pointer of a pointer into a config of `contract`.
CORDON_FUNC std::string model_pointer(const Contract& contract, std::string_view wire_pointer);

namespace detail {

/// The contract named by the document's `version` and admitted by `options`, or nullptr with a
/// violation added.
CORDON_FUNC const Contract* contract_of(const boost::json::value& doc, Violations& out, const CheckOptions& options = {});

/// The typed decoder alone, without the schema (conformance tests compare the two gates).
CORDON_FUNC Policy decode_policy(const boost::json::value& doc, const Contract& contract, Violations& out);

}  // namespace detail
}  // namespace cordon

#if CORDON_HEADER_ONLY
#include "cordon/impl/mxc_json.hpp"
#endif
