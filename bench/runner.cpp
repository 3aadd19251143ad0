// SPDX-License-Identifier: MIT
// cordon-bench runner: what a kept Runner (an embedder, the MCP server) adds per run over starting the executor directly.
#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "benchmarks.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/runner.hpp"

extern "C" const cordon_backend_v1* cordon_backend_bubblewrap_v1(void);

namespace cordon::bench {

namespace {

constexpr const char* runner_usage =
    "usage: cordon-bench runner --dir DIR [--iterations N] [--command ARGV0]\n"
    "  DIR: a directory the sandbox's user can write (it is granted read-write)\n";

using Clock = std::chrono::steady_clock;

double since_us(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// The executor started the plain way: fork, the same uid the runner would use, exec of the verified
// descriptor with the config in a file; stdio on /dev/null. Returns the exit status or -1.
int run_direct(const VerifiedExecutor& exe, const std::string& config_file, const std::optional<RunAs>& as) {
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0), ::dup2(null, 1), ::dup2(null, 2);
        if (as && (::setgroups(0, nullptr) != 0 || ::setgid(as->gid) != 0 || ::setuid(as->uid) != 0)) ::_exit(120);
        const char* argv[] = {"lxc-exec", "--config", config_file.c_str(), nullptr};
        const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
        ::execve(exe.launch_path().c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        ::_exit(127);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// CPU time (user + system) of this process, or of its waited-for children, in microseconds.
double cpu_us(int who) {
    struct rusage u {};
    ::getrusage(who, &u);
    auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
    return us(u.ru_utime) + us(u.ru_stime);
}

struct Setup {
    Runner runner;
    Policy policy;
    std::string config_file;
};

// The runner, once (as an embedder keeps it), and the clamped policy that runs `command`.
Result<Setup> set_up(const std::string& dir, const std::string& command) {
    BackendRegistry registry;
    if (auto s = registry.add(cordon_backend_bubblewrap_v1()); !s) return s.error();
    RunnerOptions options;
    options.registry = &registry;
    auto runner = make_runner(options);
    if (!runner) return runner.error();
    auto ceiling = parse_ceiling("{\"readwritePaths\":[\"" + dir + "\"]}", CeilingOptions{host_path_style(), true});
    if (!ceiling) return ceiling.error();
    Policy request;
    request.process.command_line = command;
    request.filesystem.readwrite = {dir};
    ClampOptions clamp_options;
    clamp_options.anchors = runner->trust_anchors();
    auto clamped = clamp(request, *ceiling, runner->capabilities(), clamp_options);
    if (!clamped) return clamped.error();
    auto config = runner->config_for(clamped->policy);
    if (!config) return config.error();
    std::string file = dir + "/direct-config.json";
    std::ofstream(file) << *config;
    return Setup{std::move(*runner), std::move(clamped->policy), file};
}

struct Samples {
    std::vector<double> direct, kept, paired, direct_cpu, kept_cpu, direct_child_cpu, kept_child_cpu;
};

// One round: the executor started directly and through the runner, in alternating order so
// neither always runs second. False (with a message) when either run failed.
bool one_round(const Setup& setup, const std::optional<RunAs>& as, bool runner_first, Samples* keep) {
    double direct_us = 0, kept_us = 0, direct_cpu = 0, kept_cpu = 0, direct_child = 0, kept_child = 0;
    int direct_exit = 0;
    Result<RunResult> r = make_error(ErrorCode::internal, "not run");
    auto direct = [&] {
        double c0 = cpu_us(RUSAGE_CHILDREN), s0 = cpu_us(RUSAGE_SELF);
        auto t0 = Clock::now();
        direct_exit = run_direct(setup.runner.executor(), setup.config_file, as);
        direct_us = since_us(t0);
        direct_cpu = cpu_us(RUSAGE_SELF) - s0;
        direct_child = cpu_us(RUSAGE_CHILDREN) - c0;
    };
    auto kept = [&] {
        double c0 = cpu_us(RUSAGE_CHILDREN), s0 = cpu_us(RUSAGE_SELF);
        auto t0 = Clock::now();
        r = setup.runner.run(setup.policy);
        kept_us = since_us(t0);
        kept_cpu = cpu_us(RUSAGE_SELF) - s0;
        kept_child = cpu_us(RUSAGE_CHILDREN) - c0;
    };
    if (runner_first) kept(), direct();
    else direct(), kept();
    if (direct_exit != 0 || !r || r->exit_code != 0 || r->failure != ExecutorFailure::none) {
        std::cerr << "runner: a run failed (direct exit " << direct_exit << "; "
                  << (r ? r->failure_message + r->err : r.error().to_string()) << ")\n";
        return false;
    }
    if (!keep) return true;
    keep->direct.push_back(direct_us);
    keep->kept.push_back(kept_us);
    keep->paired.push_back(kept_us - direct_us);
    keep->direct_cpu.push_back(direct_cpu);
    keep->kept_cpu.push_back(kept_cpu);
    keep->direct_child_cpu.push_back(direct_child);
    keep->kept_child_cpu.push_back(kept_child);
    return true;
}

// Everything Runner::run does except starting the executor: the median of `iterations` dry runs.
Result<double> dry_run_us(const Setup& setup, long iterations) {
    std::vector<double> dry;
    RunOptions options;
    options.dry_run = true;
    for (long i = 0; i < iterations; ++i) {
        auto t0 = Clock::now();
        auto r = setup.runner.run(setup.policy, options);
        dry.push_back(since_us(t0));
        if (!r) return r.error();
    }
    return median(dry);
}

}  // namespace

int run_runner(const Args& args) {
    std::string dir, command = "true";
    long iterations = 40;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--dir") dir = std::string(args[i + 1]);
        else if (args[i] == "--iterations") iterations = std::stol(std::string(args[i + 1]));
        else if (args[i] == "--command") command = std::string(args[i + 1]);
        else return std::cerr << runner_usage, 2;
    }
    if (dir.empty() || iterations < 1 || args.size() % 2 != 0) return std::cerr << runner_usage, 2;
    auto setup = set_up(dir, command);
    if (!setup) return std::cerr << "runner: " << setup.error().to_string() << "\n", 1;
    std::optional<RunAs> as = setup->policy.run_as ? setup->policy.run_as : detail::default_run_as();
    Samples s;
    for (long i = -3; i < iterations; ++i)  // three warm-up rounds
        if (!one_round(*setup, as, i % 2 != 0, i < 0 ? nullptr : &s)) return 1;
    auto dry = dry_run_us(*setup, iterations);
    if (!dry) return std::cerr << "runner: dry run: " << dry.error().to_string() << "\n", 1;
    auto us = [](const std::vector<double>& v) { return static_cast<long>(median(v)); };
    std::cout << "{\"op\":\"kept-runner\",\"iterations\":" << iterations << ",\"direct_median_us\":" << us(s.direct)
              << ",\"runner_median_us\":" << us(s.kept) << ",\"overhead_median_us\":" << us(s.paired)
              << ",\"ratio\":" << median(s.kept) / median(s.direct) << ",\"dry_run_median_us\":" << static_cast<long>(*dry)
              << ",\"own_cpu_median_us\":{\"direct\":" << us(s.direct_cpu) << ",\"runner\":" << us(s.kept_cpu)
              << "},\"executor_cpu_median_us\":{\"direct\":" << us(s.direct_child_cpu)
              << ",\"runner\":" << us(s.kept_child_cpu) << "}}\n";
    if (std::getenv("CORDON_BENCH_VERBOSE"))  // every pair, to see the executor's wait steps
        for (std::size_t i = 0; i < s.direct.size(); ++i)
            std::cerr << static_cast<long>(s.direct[i]) << " " << static_cast<long>(s.kept[i]) << "\n";
    return 0;
}

}  // namespace cordon::bench
