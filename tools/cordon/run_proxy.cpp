// SPDX-License-Identifier: MIT
// cordon run: the filtering proxy of one run (docs/network-proxy.md, "Wiring into a run").
#include "run_proxy.hpp"

#include <algorithm>
#include <cstdlib>

#include <boost/json/parse.hpp>

#if !defined(_WIN32)
#include <sys/stat.h>
#include <unistd.h>

#include "cordon/detail/trusted_dirs.hpp"
#include "cordon/proxy_process.hpp"
#endif

namespace cordon::cli {

void route_through_proxy(Policy& policy, const std::string& url) {
    if (policy.allowed_domains.empty()) return;
    if (!policy.network) policy.network = NetworkSpec{};
    NetworkSpec& net = *policy.network;
    net.proxy = ProxyUrl{url};
    net.egress.default_action = EgressDefault::deny;  // the runner refuses domains beside egress rules
    net.ingress.default_action = NetworkAction::deny;
    std::vector<EnvVar> env;
    const std::vector<std::string> proxy_env = proxy_environment(url);
    for (const EnvVar& e : policy.process.env) {
        bool replaced = std::any_of(proxy_env.begin(), proxy_env.end(),
                                    [&e](const std::string& p) { return p.compare(0, e.name.size() + 1, e.name + "=") == 0; });
        if (!replaced) env.push_back(e);
    }
    for (const std::string& p : proxy_env) env.push_back(EnvVar::parse(p));
    policy.process.env = std::move(env);
}

#if !defined(_WIN32)
Result<std::string> proxy_program() {
    const char* named = std::getenv("CORDON_PROXY_PROGRAM");
#if defined(CORDON_PROXY_PROGRAM_PATH)
    std::string path = named && *named ? named : CORDON_PROXY_PROGRAM_PATH;
#else
    std::string path = named && *named ? named : "";
#endif
    if (path.empty())
        return make_error(ErrorCode::unavailable, "this build has no cordon-proxy; set CORDON_PROXY_PROGRAM", "--domain");
    char* real = ::realpath(path.c_str(), nullptr);  // the file itself: a symlink could be re-pointed
    struct stat st {};
    if (!real || ::stat(real, &st) != 0) {
        std::free(real);
        return make_error(ErrorCode::unavailable, "cordon-proxy, which serves granted domains, is not at " + path,
                          "CORDON_PROXY_PROGRAM");
    }
    std::string file = real;
    std::free(real);
    // It starts with our privileges (root, until it drops them): nobody else may have written it,
    // and as root, nobody else may replace it either (its directories are root's alone).
    const bool root = ::geteuid() == 0;
    if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && (root || st.st_uid != ::geteuid())) ||
        (st.st_mode & (S_IWGRP | S_IWOTH)))
        return make_error(ErrorCode::untrusted_executor,
                          file + (root ? " is not a regular file owned by root and writable by no one else"
                                       : " is not a regular file owned by root or by us and writable by no one else") +
                              "; refusing to start it as the proxy",
                          "CORDON_PROXY_PROGRAM");
    if (root)
        if (Status s = detail::check_root_only_dir(file.substr(0, file.find_last_of('/') + 1)); !s)
            return make_error(ErrorCode::untrusted_executor, "cordon-proxy's directory: " + s.error().message,
                              "CORDON_PROXY_PROGRAM");
    return file;
}

Result<RunProxy> start_proxy(const Policy& policy, const Ceiling& ceiling) {
    ProxyConfig config;
    auto patterns = parse_domain_patterns(policy.allowed_domains, "/network/allowedDomains");
    if (!patterns) return patterns.error();
    config.allowed = std::move(*patterns);
    config.allowed_internal = ceiling.proxy_allowed_internal;
    if (!ceiling.proxy_hosts_file.empty()) {
        config.resolver = ProxyResolver::hosts_file;
        config.hosts_file = ceiling.proxy_hosts_file;
    }
    auto program = proxy_program();
    if (!program) return program.error();
    ProxyProcessOptions options;
    options.executable = *program;
    auto process = ProxyProcess::spawn(config, options);
    if (!process) return process.error();
    RunProxy proxy;
    proxy.url_ = process->url();
    proxy.process_ = std::make_shared<ProxyProcess>(std::move(*process));
    return proxy;
}

Result<std::vector<ProxyDecision>> RunProxy::stop() { return static_cast<ProxyProcess*>(process_.get())->stop(); }
#else
Result<std::string> proxy_program() {
    return make_error(ErrorCode::backend_unsupported, "cordon-proxy runs as a separate process on POSIX only", "--domain");
}

Result<RunProxy> start_proxy(const Policy&, const Ceiling&) {
    return make_error(ErrorCode::backend_unsupported, "granted domains need cordon-proxy, which runs on POSIX only yet",
                      "/network/allowedDomains");
}

Result<std::vector<ProxyDecision>> RunProxy::stop() { return std::vector<ProxyDecision>{}; }
#endif

boost::json::array decisions_json(const std::vector<ProxyDecision>& decisions) {
    boost::json::array out;
    for (const ProxyDecision& d : decisions) out.push_back(boost::json::parse(d.to_json()));
    return out;
}

std::string decision_line(const ProxyDecision& d) {
    std::string what = (d.method.empty() ? std::string("(no request)") : d.method) + " " + d.host + ":" +
                       std::to_string(d.port);
    std::string line = std::string("proxy: ") + (d.allowed ? "allowed " : "denied ") + what + " (" +
                       std::to_string(d.status) + ")";
    if (d.allowed && !d.pattern.empty()) line += " by " + d.pattern;
    if (!d.reason.empty()) line += ": " + d.reason;
    return line;
}

}  // namespace cordon::cli
