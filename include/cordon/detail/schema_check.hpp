// SPDX-License-Identifier: MIT
// cordon: validation against the embedded closed JSON Schemas, behind a declared interface so that
// only the compiled library (or a header-only build) ever includes valijson.
#pragma once

#include <boost/json/fwd.hpp>

#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/error.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

/// Leaf violations of `document` against `contract`'s embedded schema, each with a JSON pointer.
/// The schema is compiled once per process; a test compiles them all, so a broken schema is a
/// test failure, never a run-time surprise. Throws only what valijson throws on a broken schema.
CORDON_FUNC Violations schema_violations(const boost::json::value& document, const Contract& contract);

/// Leaf violations of a ceiling document against schemas/ceiling.schema.json.
CORDON_FUNC Violations ceiling_schema_violations(const boost::json::value& document);

/// Compiles every embedded schema now. Errors: internal, naming what did not compile.
CORDON_FUNC Status compile_embedded_schemas();

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/schema_check.hpp"
#endif
