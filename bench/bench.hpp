// SPDX-License-Identifier: MIT
// cordon-bench: one subcommand per measured operation, each in its own file.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

namespace cordon::bench {

using Args = std::vector<std::string_view>;

struct Benchmark {
    std::string_view name;
    std::string_view usage;
    int (*run)(const Args& args);  ///< prints one JSON line per measurement
};

/// The median of the samples (the mean of the middle two for an even count; 0 for none).
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

}  // namespace cordon::bench
