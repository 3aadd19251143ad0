// SPDX-License-Identifier: MIT
// cordon: the filtering HTTP proxy a run's workload reaches the network through (granted domains only); API of the cordon_proxy library.
#pragma once

// This header is Boost-free on purpose (the implementation is a compiled library, pimpl), so that
// programs embedding the proxy compile quickly. See docs/network-proxy.md.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/error.hpp"

namespace cordon {

struct ProxyDecision;

/// Bounds on what one proxy (one run) may use. Every limit is enforced; a tripped limit ends the
/// connection concerned and is recorded in its decision.
struct ProxyLimits {
    std::size_t max_connections = 64;                  ///< concurrent client connections; more are answered 503
    std::uint64_t max_bytes_per_connection = 1ull << 30;  ///< both directions, headers included
    std::uint64_t max_bytes_total = 8ull << 30;        ///< over the proxy's life; then every connection ends
    std::uint32_t idle_timeout_ms = 60'000;            ///< no byte in either direction
    std::uint32_t header_timeout_ms = 10'000;          ///< for a whole request head (slowloris)
    std::uint32_t connect_timeout_ms = 10'000;         ///< name resolution plus the TCP connect upstream
    std::uint32_t max_header_bytes = 32 * 1024;        ///< request and response heads
    std::size_t max_decisions = 10'000;                ///< kept and written; later ones are only counted
};

/// How the proxy resolves granted names. It always resolves them itself and connects to exactly
/// the address it checked, so a workload cannot make it look a name up twice (DNS rebinding).
enum class ProxyResolver : std::uint8_t {
    system,      ///< getaddrinfo
    hosts_file,  ///< only the given /etc/hosts-format file, nothing else (tests: no DNS exists there)
};

struct ProxyConfig {
    std::vector<DomainPattern> allowed;  ///< the granted patterns (after the clamp); empty: everything is refused
    /// Address blocks ("127.0.0.1/32", "10.0.0.0/8") the operator named: internal destinations
    /// (loopback, private, link-local, CGNAT, metadata, this host) inside them are not refused.
    std::vector<std::string> allowed_internal;
    ProxyResolver resolver = ProxyResolver::system;
    std::string hosts_file;                    ///< for ProxyResolver::hosts_file
    std::string listen_address = "127.0.0.1";  ///< a loopback address (checked)
    std::uint16_t listen_port = 0;             ///< 0: an ephemeral port, see FilteringProxy::port()
    ProxyLimits limits;
    /// Called on the proxy's thread for every finished decision (after it is stored). Must not block
    /// for long: the proxy serves all connections from one thread.
    std::function<void(const ProxyDecision&)> on_decision;
};

/// One request the proxy decided: a CONNECT tunnel, one plain-HTTP exchange, or a refused connection.
struct ProxyDecision {
    std::uint64_t connection = 0;  ///< client connection number, from 1
    std::string method;            ///< "CONNECT", "GET", ...; empty when no request could be read
    std::string host;              ///< as asked (normalised when it is a domain name)
    std::uint16_t port = 0;
    bool allowed = false;          ///< the grants and the address rules let it through
    std::string pattern;           ///< the grant that matched, when one did
    std::string address;           ///< the address connected to, when one was
    int status = 0;                ///< 200 (tunnel) or the upstream's status; cordon's own (403, 502, ...) otherwise
    std::string reason;            ///< why denied or why it ended early (a limit, an upstream error); empty if neither
    std::uint64_t bytes_up = 0;    ///< client to upstream, as written
    std::uint64_t bytes_down = 0;  ///< upstream to client, as written
    std::uint64_t duration_ms = 0;

    /// One line of JSON: {"connection":1,"method":"CONNECT","host":...,"allowed":true,...}.
    std::string to_json() const;
    /// Parses to_json()'s output. Errors: invalid_policy.
    static Result<ProxyDecision> from_json(std::string_view line);
};

struct ProxyStats {
    std::uint64_t connections = 0;          ///< accepted
    std::uint64_t refused_connections = 0;  ///< over max_connections
    std::uint64_t bytes = 0;                ///< relayed, both directions
    std::uint64_t decisions_dropped = 0;    ///< beyond max_decisions
};

/// The proxy, serving on its own thread from start() until stop() or destruction.
class FilteringProxy {
public:
    /// Binds `config.listen_address:listen_port` (loopback only) and starts serving.
    /// Errors: invalid_policy (bad config, unreadable hosts file), io_error (cannot bind).
    static Result<std::unique_ptr<FilteringProxy>> start(ProxyConfig config);

    /// Serves on an already-bound, listening TCP socket bound to loopback, which it takes over on
    /// success (on failure it stays the caller's); for a proxy process whose parent bound the port.
    /// Errors: as start(), and io_error when the descriptor is no listening TCP/IP socket.
    static Result<std::unique_ptr<FilteringProxy>> adopt(int listening_fd, ProxyConfig config);

    ~FilteringProxy();
    FilteringProxy(const FilteringProxy&) = delete;
    FilteringProxy& operator=(const FilteringProxy&) = delete;

    std::uint16_t port() const noexcept;
    /// `http://127.0.0.1:PORT`: the value of MXC's runtimeConfig.networkProxy.
    std::string url() const;
    /// Stops accepting, ends every connection (their decisions say "proxy stopped") and joins the
    /// thread. Idempotent.
    void stop();

    std::vector<ProxyDecision> decisions() const;
    ProxyStats stats() const;

    struct Impl;

private:
    explicit FilteringProxy(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// The proxy's configuration as JSON (patterns as text), for handing it to a proxy process.
std::string proxy_config_to_json(const ProxyConfig& config);
/// Errors: invalid_policy, naming the field.
Result<ProxyConfig> proxy_config_from_json(std::string_view json);

/// The environment a workload gets so that ordinary clients use the proxy: HTTP_PROXY, HTTPS_PROXY,
/// ALL_PROXY and NO_PROXY (and lower-case forms) as "NAME=VALUE". NO_PROXY keeps only the sandbox's
/// own loopback direct. The proxy URL is the one the workload sees (MXC/bubblewrap rewrites the
/// host to its gateway, e.g. http://10.0.2.2:PORT).
std::vector<std::string> proxy_environment(std::string_view proxy_url);

}  // namespace cordon
