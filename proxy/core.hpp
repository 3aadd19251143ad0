// SPDX-License-Identifier: MIT
// cordon proxy internals: what all connections of one proxy share (policy, resolver, limits, the decision log).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "cordon/detail/address_class.hpp"
#include "cordon/error.hpp"
#include "cordon/filtering_proxy.hpp"

namespace cordon::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

/// An /etc/hosts-format table: "ADDRESS NAME [NAME...]", '#' comments.
struct HostsTable {
    std::map<std::string, std::vector<detail::IpAddr>> names;

    /// Errors: io_error (unreadable), invalid_policy (a bad line, named by number).
    static Result<HostsTable> load(const std::string& path);
    const std::vector<detail::IpAddr>* find(const std::string& name) const;
};

/// This host's interface addresses (getifaddrs; GetAdaptersAddresses on Windows).
std::vector<detail::IpAddr> host_addresses();

detail::IpAddr to_ip(const asio::ip::address& a);
asio::ip::address to_asio(const detail::IpAddr& ip);

/// The outcome of the name check: the normalised host and the grant, or why not.
struct NameCheck {
    bool allowed = false;
    std::string host;
    std::string pattern;
    std::string reason;
};

/// The addresses a granted name may be connected to, or why none.
struct AddressCheck {
    std::vector<tcp::endpoint> permitted;
    std::string refused;  ///< set when `permitted` is empty
};

class Core {
public:
    Core(asio::io_context& ioc, ProxyConfig config, HostsTable hosts, std::vector<detail::IpBlock> internal_ok);

    asio::io_context& ioc() noexcept { return ioc_; }
    const ProxyConfig& config() const noexcept { return config_; }
    const ProxyLimits& limits() const noexcept { return config_.limits; }

    NameCheck check_name(std::string_view host, std::uint16_t port) const;
    AddressCheck check_addresses(const std::string& host, const std::vector<detail::IpAddr>& found, std::uint16_t port);
    /// Test resolver: the table's addresses, or nullptr when the proxy resolves through the system.
    const HostsTable* hosts() const noexcept { return config_.resolver == ProxyResolver::hosts_file ? &hosts_ : nullptr; }

    /// Accounts relayed bytes; false once the proxy-wide limit is exceeded.
    bool charge_total(std::uint64_t n) noexcept;
    void record(ProxyDecision d);

    std::uint64_t next_connection() noexcept { return ++connections_; }
    bool admit_connection() noexcept;  ///< false when max_connections are open (counted as refused)
    void release_connection() noexcept;

    void track(const std::shared_ptr<Session>& s);
    /// Ends every open session (their decisions say why) and stops tracking them.
    void close_all(const std::string& reason);

    std::vector<ProxyDecision> decisions() const;
    ProxyStats stats() const;

private:
    asio::io_context& ioc_;
    ProxyConfig config_;
    HostsTable hosts_;
    std::vector<detail::IpBlock> internal_ok_;
    std::vector<detail::IpAddr> own_;
    Clock::time_point own_at_{};
    std::vector<std::weak_ptr<Session>> sessions_;
    std::size_t open_ = 0;
    std::uint64_t connections_ = 0;
    std::atomic<std::uint64_t> bytes_{0};

    mutable std::mutex log_mutex_;  // decisions are read from other threads
    std::vector<ProxyDecision> log_;
    std::uint64_t dropped_ = 0;
    std::uint64_t stats_connections_ = 0, stats_refused_ = 0;
};

}  // namespace cordon::proxy
