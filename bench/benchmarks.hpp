// SPDX-License-Identifier: MIT
// cordon-bench: the table of benchmarks (add one line per benchmark file).
#pragma once

#include "bench.hpp"

namespace cordon::bench {

int run_sha256(const Args& args);
int run_pipeline(const Args& args);
int run_proxy(const Args& args);
int run_startup(const Args& args);

inline const Benchmark benchmarks[] = {
    {"sha256", "sha256 FILE [--iterations N]   SHA-256 of a file as executor verification does it", run_sha256},
    {"pipeline", "pipeline --ceiling FILE --request FILE [--iterations N]   parse, clamp (canonical), emit + validate",
     run_pipeline},
    {"proxy", "proxy [--mib N] [--rounds N]   throughput and added latency through the filtering proxy vs direct",
     run_proxy},
    {"startup", "startup [--iterations N] [--executor PATH]   `true` with the network off vs one egress rule, cordon vs lxc-exec direct",
     run_startup},
};

}  // namespace cordon::bench
