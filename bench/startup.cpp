// SPDX-License-Identifier: MIT
// cordon-bench startup: start-up of `true` with the network off and with one egress rule, through cordon's Runner and lxc-exec run directly, interleaved.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchmarks.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/helper_tools.hpp"
#include "cordon/detail/trusted_dirs.hpp"
#include "cordon/egress_flag.hpp"
#include "cordon/runner.hpp"

#if defined(CORDON_BENCH_BUBBLEWRAP)
extern "C" const cordon_backend_v1* cordon_backend_bubblewrap_v1(void);
#endif

namespace cordon::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* startup_usage = "usage: cordon-bench startup [--iterations N] [--executor PATH]\n";

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

// As root the sandbox runs as nobody (the runner never starts an executor as root); so does the
// direct run, so that both start the same way. slirp4netns opens /dev/net/tun as that user: where
// the host left it 0600, a 0666 node for the same device is bound over it in a private mount (and
// network) namespace of this process. Returns a note for the output.
// What prepare_host and the configs leave in /tmp, removed however the benchmark ends.
struct Scratch {
    std::string tun_dir, config_dir;
    ~Scratch() {
        std::error_code ec;
        if (!config_dir.empty()) std::filesystem::remove_all(config_dir, ec);
        if (tun_dir.empty()) return;
        ::umount2("/dev/net/tun", MNT_DETACH);
        ::umount2(tun_dir.c_str(), MNT_DETACH);
        ::rmdir(tun_dir.c_str());
    }
};

std::string prepare_host(std::optional<RunAs>& who, Scratch& scratch) {
    who = detail::default_run_as();
    struct stat st {};
    if (!who || ::stat("/dev/net/tun", &st) != 0 || (st.st_mode & 006) == 006) return "";
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw std::runtime_error("cannot make a private namespace for /dev/net/tun");
    char dir[] = "/tmp/cordon-bench-tun-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("cannot make a directory for /dev/net/tun");
    scratch.tun_dir = dir;
    if (::mount("cordon-bench", dir, "tmpfs", 0, "mode=0755") != 0) throw std::runtime_error("cannot mount a tmpfs for /dev/net/tun");
    std::string node = std::string(dir) + "/tun";
    if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(10, 200)) != 0 || ::chmod(node.c_str(), 0666) != 0 ||
        ::mount(node.c_str(), "/dev/net/tun", nullptr, MS_BIND, nullptr) != 0)
        throw std::runtime_error("cannot bind a 0666 /dev/net/tun");
    return "/dev/net/tun is 0600 here: a 0666 node is bound over it in a private namespace";
}

// lxc-exec on `config`, as `who`, with the root-only PATH cordon gives it; wall time in ms. The
// verified descriptor is executed (as the runner does), so `who` needs no access to its path.
double run_direct(int exe_fd, const std::string& config, const std::optional<RunAs>& who, const std::string& path) {
    auto t = Clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (who && (::setgroups(0, nullptr) != 0 || ::setgid(who->gid) != 0 || ::setuid(who->uid) != 0)) ::_exit(120);
        const std::string env_path = "PATH=" + path;
        char* envp[] = {const_cast<char*>(env_path.c_str()), nullptr};
        char* argv[] = {const_cast<char*>("lxc-exec"), const_cast<char*>("--config"), const_cast<char*>(config.c_str()),
                        nullptr};
        if (::chdir("/") != 0) ::_exit(121);
        ::fexecve(exe_fd, argv, envp);
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("lxc-exec run directly failed (" + config + ")");
    return ms_since(t);
}

// One request through clamp and the Runner, as an embedder starts a command; wall time in ms.
double run_cordon(const Runner& runner, const Ceiling& ceiling, const Policy& request, const RunOptions& options) {
    auto t = Clock::now();
    auto clamped = clamp(request, ceiling, runner.capabilities());
    if (!clamped) throw std::runtime_error(clamped.error().to_string());
    auto r = runner.run(clamped->policy, options);
    if (!r) throw std::runtime_error(r.error().to_string());
    if (r->exit_code != 0 || r->failure != ExecutorFailure::none)
        throw std::runtime_error("cordon run failed: " + r->failure_message + r->err);
    return ms_since(t);
}

}  // namespace

int run_startup(const Args& args) {
    long iterations = 20;
    RunnerOptions runner_options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i + 1 >= args.size()) return std::cerr << startup_usage, 2;
        if (args[i] == "--iterations") iterations = std::stol(std::string(args[++i]));
        else if (args[i] == "--executor") runner_options.executor.explicit_path = std::string(args[++i]);
        else return std::cerr << startup_usage, 2;
    }
    if (iterations < 1) return std::cerr << startup_usage, 2;
    std::optional<RunAs> who;
    Scratch scratch;
    const std::string note = prepare_host(who, scratch);
#if defined(CORDON_BENCH_BUBBLEWRAP)
    static BackendRegistry registry;
    registry.add(cordon_backend_bubblewrap_v1()).value();
    runner_options.registry = &registry;
#endif
    auto runner = make_runner(runner_options);
    if (!runner) throw std::runtime_error(runner.error().to_string());
    auto ceiling = parse_ceiling(R"({"network":{"egress":{"allow":[{"to":[{"cidr":"198.51.100.0/24"}]}]}}})");
    if (!ceiling) throw std::runtime_error(ceiling.error().to_string());
    Policy off, rule;
    off.process.command_line = rule.process.command_line = "true";
    rule.network = NetworkSpec{};
    rule.network->egress.allow.push_back(parse_egress_flag("198.51.100.7:8080/tcp", "bench").value());

    // The direct runs get exactly the configs cordon emits for the two requests.
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("cordon-bench-startup-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    scratch.config_dir = dir.string();
    fs::permissions(dir, fs::perms(0755));
    std::vector<std::string> configs;
    for (const Policy* p : {&off, &rule}) {
        auto clamped = clamp(*p, *ceiling, runner->capabilities());
        if (!clamped) throw std::runtime_error(clamped.error().to_string());
        auto text = runner->config_for(clamped->policy);
        if (!text) throw std::runtime_error(text.error().to_string());
        configs.push_back((dir / (p == &off ? "off.json" : "rule.json")).string());
        std::ofstream(configs.back()) << *text;
        fs::permissions(configs.back(), fs::perms(0644));
    }
    std::string path;
    for (const std::string& d : detail::trusted_helper_dirs(runner->capabilities().helper_dirs)) path += (path.empty() ? "" : ":") + d;
    const int exe = runner->executor().fd();
    RunOptions options;
    options.run_as = who;

    const char* names[] = {"lxc-exec direct, network off", "lxc-exec direct, one egress rule", "cordon, network off",
                           "cordon, one egress rule"};
    auto one = [&](int v) {
        return v == 0 ? run_direct(exe, configs[0], who, path)
               : v == 1 ? run_direct(exe, configs[1], who, path)
               : v == 2 ? run_cordon(*runner, *ceiling, off, options)
                        : run_cordon(*runner, *ceiling, rule, options);
    };
    for (int v = 0; v < 4; ++v) one(v);  // warm-up: page cache, the verified executor's first read
    std::vector<double> samples[4];
    for (long round = 0; round < iterations; ++round)
        for (int k = 0; k < 4; ++k) {  // a rotating start, so that no variant always follows another
            int v = static_cast<int>((round + k) % 4);
            samples[v].push_back(one(v));
        }
    double median[4];
    for (int v = 0; v < 4; ++v) {
        median[v] = quantile(samples[v], 0.5);
        std::printf("{\"op\":\"startup\",\"variant\":\"%s\",\"sdk\":\"%s\",\"iterations\":%ld,\"median_ms\":%.1f,"
                    "\"p10_ms\":%.1f,\"p90_ms\":%.1f}\n",
                    names[v], std::string(runner->executor().sdk_version()).c_str(), iterations, median[v],
                    quantile(samples[v], 0.1), quantile(samples[v], 0.9));
    }
    std::printf("{\"op\":\"startup-ratios\",\"cordon_over_direct_network_off\":%.2f,\"cordon_over_direct_one_rule\":%.2f,"
                "\"one_rule_over_off_direct\":%.2f,\"one_rule_over_off_cordon\":%.2f,\"rule_cost_direct_ms\":%.1f,"
                "\"rule_cost_cordon_ms\":%.1f%s%s%s}\n",
                median[2] / median[0], median[3] / median[1], median[1] / median[0], median[3] / median[2],
                median[1] - median[0], median[3] - median[2], note.empty() ? "" : ",\"note\":\"", note.c_str(),
                note.empty() ? "" : "\"");
    return 0;
}

}  // namespace cordon::bench
