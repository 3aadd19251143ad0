// SPDX-License-Identifier: MIT
// Two translation units include every public header and are linked into one program: a missing
// `inline` on a header definition fails to link here (one definition rule).
#include "cordon/cordon.hpp"
#include "cordon/backend_sdk.hpp"

int odr_b();

int main() {
    auto v = cordon::validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"}})");
    return (v.empty() && odr_b() == 0) ? 0 : 1;
}
