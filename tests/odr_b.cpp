// SPDX-License-Identifier: MIT
// Second translation unit of the one-definition-rule test (see odr_a.cpp).
#include "cordon/backend_sdk.hpp"
#include "cordon/cordon.hpp"

int odr_b() {
    auto p = cordon::from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})");
    return p.has_value() ? 0 : 1;
}
