// SPDX-License-Identifier: MIT
// cordon-bench: the table of benchmarks (add one line per benchmark file).
#pragma once

#include "bench.hpp"

namespace cordon::bench {

inline const Benchmark benchmarks[] = {
    {"", "", nullptr},  // placeholder, removed when the first benchmark lands
};

}  // namespace cordon::bench
