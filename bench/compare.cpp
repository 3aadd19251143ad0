// SPDX-License-Identifier: MIT
// cordon-bench compare: two commands run alternately (so machine load hits both alike), wall time and peak RSS of each.
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "benchmarks.hpp"

extern char** environ;

namespace cordon::bench {

namespace {

constexpr const char* compare_usage =
    "usage: cordon-bench compare [--iterations N] [--warmup N] NAME ARGV... ::: NAME ARGV...\n";

struct Side {
    std::string name;
    std::vector<std::string> argv;
    std::vector<double> wall_us;
    std::vector<long> maxrss_kb;  // wait4: the largest process of the command's tree
    int failures = 0;
};

// One run with stdin and stdout on /dev/null (stderr kept for diagnostics): wall time and rusage.
bool run_once(Side& side, bool record) {
    std::vector<char*> argv;
    for (auto& a : side.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    int status = 0;
    struct rusage usage {};
    if (::wait4(pid, &status, 0, &usage) != pid) return false;
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) ++side.failures;
    if (record && ok) {
        side.wall_us.push_back(us);
        side.maxrss_kb.push_back(usage.ru_maxrss);
    }
    return ok;
}

template <class T>
T percentile(std::vector<T> v, double p) {
    if (v.empty()) return T{};
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

void print_side(const Side& s) {
    std::cout << "{\"op\":\"compare\",\"name\":\"" << s.name << "\",\"runs\":" << s.wall_us.size()
              << ",\"failures\":" << s.failures << ",\"median_us\":" << static_cast<long>(percentile(s.wall_us, 0.5))
              << ",\"p10_us\":" << static_cast<long>(percentile(s.wall_us, 0.1))
              << ",\"p90_us\":" << static_cast<long>(percentile(s.wall_us, 0.9))
              << ",\"maxrss_kb_median\":" << percentile(s.maxrss_kb, 0.5)
              << ",\"maxrss_kb_max\":" << percentile(s.maxrss_kb, 1.0) << "}\n";
}

bool parse(const Args& args, long& iterations, long& warmup, Side& a, Side& b) {
    std::size_t i = 0;
    for (; i + 1 < args.size() && args[i].substr(0, 2) == "--"; i += 2) {
        if (args[i] == "--iterations") iterations = std::stol(std::string(args[i + 1]));
        else if (args[i] == "--warmup") warmup = std::stol(std::string(args[i + 1]));
        else return false;
    }
    Side* side = &a;
    for (; i < args.size(); ++i) {
        if (args[i] == ":::") {
            if (side == &b) return false;
            side = &b;
        } else if (side->name.empty()) {
            side->name = std::string(args[i]);
        } else {
            side->argv.emplace_back(args[i]);
        }
    }
    return iterations > 0 && warmup >= 0 && !a.argv.empty() && !b.argv.empty();
}

}  // namespace

int run_compare(const Args& args) {
    long iterations = 30, warmup = 3;
    Side a, b;
    if (!parse(args, iterations, warmup, a, b)) {
        std::cerr << compare_usage;
        return 2;
    }
    for (long i = 0; i < warmup; ++i) {
        if (!run_once(a, false) || !run_once(b, false)) {
            std::cerr << "cordon-bench compare: a warm-up run failed (" << (a.failures ? a.name : b.name) << ")\n";
            return 1;
        }
    }
    // Alternate, and alternate who goes first, so neither side always follows the other's cache effects.
    for (long i = 0; i < iterations; ++i) {
        Side& first = i % 2 ? b : a;
        Side& second = i % 2 ? a : b;
        run_once(first, true);
        run_once(second, true);
    }
    print_side(a);
    print_side(b);
    double ma = percentile(a.wall_us, 0.5), mb = percentile(b.wall_us, 0.5);
    // Each round ran both back to back: the median over rounds of b - a and b / a sees less of the
    // load that moves whole rounds than the difference of the two medians does.
    std::vector<double> diff, ratio;
    for (std::size_t i = 0; i < a.wall_us.size() && i < b.wall_us.size(); ++i) {
        diff.push_back(b.wall_us[i] - a.wall_us[i]);
        ratio.push_back(b.wall_us[i] / a.wall_us[i]);
    }
    std::cout << "{\"op\":\"compare-ratio\",\"of\":\"" << b.name << "/" << a.name << "\",\"ratio\":" << (ma > 0 ? mb / ma : 0)
              << ",\"overhead_us\":" << static_cast<long>(mb - ma) << ",\"paired_ratio_median\":" << percentile(ratio, 0.5)
              << ",\"paired_overhead_median_us\":" << static_cast<long>(percentile(diff, 0.5)) << "}\n";
    return a.failures || b.failures ? 1 : 0;
}

}  // namespace cordon::bench
