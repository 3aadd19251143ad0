// SPDX-License-Identifier: MIT
// cordon-bench: the table of benchmarks (add one line per benchmark file).
#pragma once

#include "bench.hpp"

namespace cordon::bench {

int run_sha256(const Args& args);
int run_pipeline(const Args& args);
int run_proxy(const Args& args);
int run_startup(const Args& args);
int run_compare(const Args& args);
int run_scale(const Args& args);
#if defined(CORDON_BENCH_BUBBLEWRAP)
int run_runner(const Args& args);  // the real lxc-exec through the bubblewrap backend
#endif

inline const Benchmark benchmarks[] = {
    {"sha256", "sha256 FILE [--iterations N]   SHA-256 of a file as executor verification does it", run_sha256},
    {"pipeline", "pipeline --ceiling FILE --request FILE [--iterations N]   parse, clamp (canonical), emit + validate",
     run_pipeline},
    {"proxy", "proxy [--mib N] [--rounds N]   throughput and added latency through the filtering proxy vs direct",
     run_proxy},
    {"startup", "startup [--iterations N] [--executor PATH]   `true` with the network off vs one egress rule, cordon vs lxc-exec direct",
     run_startup},
    {"scale", "scale [--sizes 10,100,1000] [--min-ms N]   growth of clamp, clamp_egress, clamp_domains with n paths/rules/patterns",
     run_scale},
    {"compare", "compare [--iterations N] [--warmup N] NAME ARGV... ::: NAME ARGV...   two commands alternately: wall time, peak RSS",
     run_compare},
#if defined(CORDON_BENCH_BUBBLEWRAP)
    {"runner", "runner --dir DIR [--iterations N] [--command CMD]   a kept Runner's run vs the executor started directly",
     run_runner},
#endif
};

}  // namespace cordon::bench
