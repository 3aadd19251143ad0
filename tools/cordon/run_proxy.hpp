// SPDX-License-Identifier: MIT
// cordon run: the filtering proxy of one run when domains are granted (docs/network-proxy.md):
// started before the executor, stopped after it, its decisions reported.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "cordon/ceiling.hpp"
#include "cordon/error.hpp"
#include "cordon/filtering_proxy.hpp"
#include "cordon/policy.hpp"

namespace cordon::cli {

/// The URL a dry run's config shows: no proxy is started, so no port exists yet.
inline constexpr const char* dry_run_proxy_url = "http://127.0.0.1:1";

/// Points a clamped policy with granted domains at the proxy `url`: runtimeConfig.networkProxy,
/// egress and ingress deny with no rules (the executor's firewall then admits only that port),
/// and HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY (and lower-case) in the workload's
/// environment, replacing the request's entries of those names. No domains: nothing changes.
void route_through_proxy(Policy& policy, const std::string& url);

/// The cordon-proxy program (symlinks resolved): $CORDON_PROXY_PROGRAM, else the installed one. It
/// starts with our privileges, so it must be a regular file no one else can write, owned by us or
/// root; as root, owned by root in directories only root can write (check_root_only_dir).
/// Errors: unavailable, untrusted_executor.
Result<std::string> proxy_program();

/// A running proxy of one run (POSIX: a cordon-proxy child); destruction stops it.
class RunProxy {
public:
    const std::string& url() const noexcept { return url_; }
    /// Stops the proxy and returns its decisions (ProxyProcess::stop).
    Result<std::vector<ProxyDecision>> stop();

private:
    friend Result<RunProxy> start_proxy(const Policy& policy, const Ceiling& ceiling);
    std::string url_;
    std::shared_ptr<void> process_;  // the ProxyProcess, destroyed where it is defined
};

/// Starts cordon-proxy for the policy's granted domains, resolving names through the ceiling's
/// proxyHostsFile when it names one. Errors: those of ProxyProcess::spawn and proxy_program;
/// backend_unsupported on Windows (no separate proxy process there yet).
Result<RunProxy> start_proxy(const Policy& policy, const Ceiling& ceiling);

/// The decisions as JSON objects (ProxyDecision::to_json), for --json and the report.
boost::json::array decisions_json(const std::vector<ProxyDecision>& decisions);

/// One line per decision: "proxy: denied GET other.test:80 (403): no granted domain ...".
std::string decision_line(const ProxyDecision& d);

}  // namespace cordon::cli
