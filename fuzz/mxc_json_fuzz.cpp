// SPDX-License-Identifier: MIT
// Fuzz target: any bytes through validate() and from_mxc_json(); whatever parses must round-trip
// through every contract that can carry it (the model does not depend on the wire version).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cordon/mxc_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    cordon::Violations violations = cordon::validate(text);
    auto policy = cordon::from_mxc_json(text);
    // one verdict, however it is asked
    if (policy.has_value() != violations.empty()) std::abort();
    if (policy) {
        for (const cordon::Contract* contract : cordon::known_contracts) {
            auto json = cordon::to_mxc_json(*policy, *contract);  // may refuse what the contract lacks
            if (!json) continue;
            auto again = cordon::from_mxc_json(*json);
            if (!again || !(*again == *policy)) std::abort();
        }
    }
    return 0;
}
