// SPDX-License-Identifier: MIT
// cordon proxy internals: one client connection (CONNECT tunnel or plain-HTTP exchanges), as an asynchronous state machine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>

#include "core.hpp"

namespace cordon::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Core& core, tcp::socket client);
    ~Session();

    /// Serves the connection: reads requests until it ends.
    void start();
    /// Answers 503 (the connection limit is reached) and closes; the connection was not admitted.
    void refuse_busy();
    /// Ends the connection now (the proxy stops); an open decision records `reason`.
    void abort(const std::string& reason);

private:
    enum class Phase { head, connecting, tunnel, exchange, answering, closed };
    enum class Dir { up, down };  // up: client to upstream

    void read_head();
    void on_head(error_code ec);
    void on_connect_request();
    void on_http_request();
    void deny_name(const NameCheck& check);
    void resolve(const std::string& host, std::uint16_t port);
    void on_addresses(const std::vector<detail::IpAddr>& found, const std::string& error);
    void on_connected(error_code ec, const tcp::endpoint& ep);

    void start_tunnel();
    void pump(Dir d);
    void on_pump_end(Dir d, error_code ec);

    void forward_request_head();
    void relay_request_body();
    void read_response_head();
    void on_response_head(error_code ec);
    void relay_response_body();
    void end_exchange();

    void answer(int status, const std::string& reason, std::string_view proxy_status);
    void drain();
    void finish(const std::string& reason);
    void close_decision(const std::string& reason);
    void close();
    void watch();
    void on_tick();
    bool admit(std::uint64_t n, Dir d);
    void begin_decision(std::string method);

    Core& core_;
    tcp::socket client_;
    tcp::socket upstream_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    beast::flat_buffer client_buf_;
    beast::flat_buffer upstream_buf_;
    std::optional<http::request_parser<http::buffer_body>> req_;
    std::optional<http::serializer<true, http::buffer_body>> req_sr_;
    std::optional<http::response_parser<http::buffer_body>> res_;
    std::optional<http::serializer<false, http::buffer_body>> res_sr_;
    std::vector<char> up_buf_, down_buf_;
    std::string answer_;  // cordon's own response text while it is written

    Phase phase_ = Phase::head;
    bool admitted_ = false;
    bool first_request_ = true;
    bool client_keep_alive_ = false;
    bool expect_continue_ = false;
    bool head_method_ = false;
    bool response_started_ = false;
    int open_directions_ = 0;
    std::uint16_t port_ = 0;
    std::string origin_target_, authority_;
    Clock::time_point deadline_{}, last_activity_{}, decision_start_{};
    std::uint64_t connection_bytes_ = 0;
    std::uint64_t id_ = 0;
    std::size_t drained_ = 0;
    std::optional<ProxyDecision> decision_;
};

}  // namespace cordon::proxy
