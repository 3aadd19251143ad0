// SPDX-License-Identifier: MIT
// cordon proxy: FilteringProxy (listener, accept loop, its thread, stop) over the shared Core.
#include "cordon/filtering_proxy.hpp"

#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core.hpp"
#include "session.hpp"

namespace cordon {

using proxy::asio::ip::tcp;

struct FilteringProxy::Impl {
    std::unique_ptr<proxy::asio::io_context> ioc = std::make_unique<proxy::asio::io_context>(1);
    std::unique_ptr<proxy::Core> core;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<proxy::asio::steady_timer> retry;
    std::optional<proxy::asio::executor_work_guard<proxy::asio::io_context::executor_type>> work;
    std::thread thread;
    std::uint16_t port = 0;
    std::string url;
    bool stopped = false;

    ~Impl() {
        stop();
        // Handlers still queued own sessions, whose destructors use the core: the context goes first.
        acceptor.reset();
        retry.reset();
        ioc.reset();
        core.reset();
    }

    void set_endpoint(const tcp::endpoint& ep) {
        port = ep.port();
        std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
        url = "http://" + host + ":" + std::to_string(port);
    }

    void accept() {
        acceptor->async_accept([this](proxy::error_code ec, tcp::socket socket) {
            if (stopped || !acceptor->is_open()) return;
            if (ec) {
                // Out of descriptors or memory: wait a little instead of spinning on the error.
                retry->expires_after(std::chrono::milliseconds(50));
                retry->async_wait([this](proxy::error_code e) {
                    if (!e && !stopped) accept();
                });
                return;
            }
            auto session = std::make_shared<proxy::Session>(*core, std::move(socket));
            core->track(session);
            if (core->admit_connection()) session->start();
            else session->refuse_busy();
            accept();
        });
    }

    void run() {
        work.emplace(ioc->get_executor());
        accept();
        thread = std::thread([this] {
            for (;;) {
                try {
                    ioc->run();
                    return;
                } catch (const std::exception&) {
                    // A handler threw (allocation failure): keep serving the other connections.
                }
            }
        });
    }

    void stop() {
        if (stopped || !thread.joinable()) {
            stopped = true;
            return;
        }
        proxy::asio::post(*ioc, [this] {
            stopped = true;
            proxy::error_code ignored;
            acceptor->close(ignored);
            retry->cancel();
            core->close_all("proxy stopped");
            work.reset();
        });
        thread.join();
    }
};

namespace {

Result<std::unique_ptr<FilteringProxy::Impl>> prepare(ProxyConfig config) {
    std::vector<detail::IpBlock> internal_ok;
    for (std::size_t i = 0; i < config.allowed_internal.size(); ++i) {
        auto n = detail::IpBlock::parse(config.allowed_internal[i]);
        if (!n) return make_error(ErrorCode::invalid_policy, n.error().message, "/allowedInternal/" + std::to_string(i));
        internal_ok.push_back(*n);
    }
    proxy::HostsTable hosts;
    if (config.resolver == ProxyResolver::hosts_file) {
        auto t = proxy::HostsTable::load(config.hosts_file);
        if (!t) return t.error();
        hosts = std::move(*t);
    }
    if (config.limits.max_connections == 0 || config.limits.max_header_bytes < 256 || config.limits.idle_timeout_ms == 0 ||
        config.limits.header_timeout_ms == 0 || config.limits.connect_timeout_ms == 0)
        return make_error(ErrorCode::invalid_policy,
                          "proxy limits: connections and timeouts must be positive and heads may not be limited below 256 bytes");
    auto impl = std::make_unique<FilteringProxy::Impl>();
    impl->core = std::make_unique<proxy::Core>(*impl->ioc, std::move(config), std::move(hosts), std::move(internal_ok));
    impl->retry = std::make_unique<proxy::asio::steady_timer>(*impl->ioc);
    return impl;
}

}  // namespace

FilteringProxy::FilteringProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FilteringProxy::~FilteringProxy() = default;

Result<std::unique_ptr<FilteringProxy>> FilteringProxy::start(ProxyConfig config) {
    try {
        auto ip = detail::IpAddr::parse(config.listen_address);
        if (!ip || detail::classify(*ip) != detail::AddressClass::loopback)
            return make_error(ErrorCode::invalid_policy,
                              "the proxy listens on a loopback address only, not \"" + config.listen_address + "\"");
        tcp::endpoint ep(proxy::to_asio(*ip), config.listen_port);
        auto impl = prepare(std::move(config));
        if (!impl) return impl.error();
        auto& p = **impl;
        p.acceptor = std::make_unique<tcp::acceptor>(*p.ioc);
        proxy::error_code ec;
        p.acceptor->open(ep.protocol(), ec);
        if (!ec) p.acceptor->bind(ep, ec);
        if (!ec) p.acceptor->listen(proxy::asio::socket_base::max_listen_connections, ec);
        if (ec) return make_error(ErrorCode::io_error, "cannot listen on " + ep.address().to_string() + ":" +
                                                           std::to_string(ep.port()) + ": " + ec.message());
        p.set_endpoint(p.acceptor->local_endpoint());
        p.run();
        return std::unique_ptr<FilteringProxy>(new FilteringProxy(std::move(*impl)));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("starting the proxy: ") + e.what());
    }
}

Result<std::unique_ptr<FilteringProxy>> FilteringProxy::adopt(int listening_fd, ProxyConfig config) {
    try {
        // Every check comes before the take-over, so on failure the descriptor stays the caller's.
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (getsockname(listening_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
            (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            return make_error(ErrorCode::io_error, "descriptor " + std::to_string(listening_fd) + " is not a TCP/IP socket");
#if !defined(_WIN32)
        int listening = 0;
        socklen_t optlen = sizeof listening;
        if (getsockopt(listening_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening)
            return make_error(ErrorCode::io_error, "descriptor " + std::to_string(listening_fd) + " is not a listening socket");
#endif
        detail::IpAddr bound;
        if (ss.ss_family == AF_INET) {
            std::memcpy(bound.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, 4);
        } else {
            bound.v6 = true;
            std::memcpy(bound.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, 16);
        }
        if (detail::classify(bound) != detail::AddressClass::loopback)
            return make_error(ErrorCode::invalid_policy, "the proxy's listening socket must be bound to a loopback address, not " +
                                                             bound.to_string());
        auto impl = prepare(std::move(config));
        if (!impl) return impl.error();
        auto& p = **impl;
        p.acceptor = std::make_unique<tcp::acceptor>(*p.ioc);
        proxy::error_code ec;
        p.acceptor->assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd, ec);
        if (ec) return make_error(ErrorCode::io_error, "cannot take over descriptor " + std::to_string(listening_fd) + ": " + ec.message());
        p.set_endpoint(p.acceptor->local_endpoint());
        p.run();
        return std::unique_ptr<FilteringProxy>(new FilteringProxy(std::move(*impl)));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("starting the proxy: ") + e.what());
    }
}

std::uint16_t FilteringProxy::port() const noexcept { return impl_->port; }

std::string FilteringProxy::url() const { return impl_->url; }

void FilteringProxy::stop() { impl_->stop(); }

std::vector<ProxyDecision> FilteringProxy::decisions() const { return impl_->core->decisions(); }

ProxyStats FilteringProxy::stats() const { return impl_->core->stats(); }

}  // namespace cordon
