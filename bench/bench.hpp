// SPDX-License-Identifier: MIT
// cordon-bench: one subcommand per measured operation, each in its own file.
#pragma once

#include <string_view>
#include <vector>

namespace cordon::bench {

using Args = std::vector<std::string_view>;

struct Benchmark {
    std::string_view name;
    std::string_view usage;
    int (*run)(const Args& args);  ///< prints one JSON line per measurement
};

}  // namespace cordon::bench
