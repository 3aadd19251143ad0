// SPDX-License-Identifier: MIT
// Fuzz target: any bytes through validate() and from_mxc_json(); whatever parses must round-trip.
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
        auto version = text.find("0.7.0-alpha") != std::string_view::npos ? &cordon::contract_0_7_0_alpha
                                                                           : &cordon::contract_0_6_0_alpha;
        auto json = cordon::to_mxc_json(*policy, *version);
        if (json) {
            auto again = cordon::from_mxc_json(*json);
            if (!again || !(*again == *policy)) std::abort();
        }
    }
    return 0;
}
