// SPDX-License-Identifier: MIT
// cordon proxy: one client connection: read a request head, decide, resolve, connect to the checked address, relay.
// GCC misreads boost::optional inside Beast's parser as maybe-uninitialized once sanitizers change
// inlining (a known false positive, in Boost's code); the warning stays on in every other file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "session.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>

namespace cordon::proxy {

namespace {

constexpr std::size_t relay_buffer = 64 * 1024;

struct HostPort {
    std::string host;
    std::uint16_t port = 0;  // 0: none given
};

std::optional<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v < 1 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// "host", "host:port", "[v6]" or "[v6]:port"; nullopt when malformed or carrying userinfo.
std::optional<HostPort> split_authority(std::string_view a) {
    HostPort hp;
    if (a.empty() || a.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view port;
    if (a.front() == '[') {
        auto close = a.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        hp.host = std::string(a.substr(0, close + 1));
        std::string_view rest = a.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
        if (!rest.empty()) port = rest.substr(1);
        if (!rest.empty() && port.empty()) return std::nullopt;
    } else if (auto c = a.rfind(':'); c != std::string_view::npos) {
        if (a.find(':') != c) {  // a bare IPv6 literal; its host check refuses it
            hp.host = std::string(a);
            return hp;
        }
        hp.host = std::string(a.substr(0, c));
        port = a.substr(c + 1);
        if (port.empty()) return std::nullopt;
    } else {
        hp.host = std::string(a);
    }
    if (hp.host.empty()) return std::nullopt;
    if (!port.empty()) {
        auto p = parse_port(port);
        if (!p) return std::nullopt;
        hp.port = *p;
    }
    return hp;
}

// Printable ASCII only, so cordon's text can go into a status line or header whatever the host held.
std::string header_safe(std::string_view s, std::size_t max) {
    std::string out;
    for (char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    }
    return out;
}

const char* status_text(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 408: return "Request Timeout";
        case 431: return "Request Header Fields Too Large";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
    }
    return "Error";
}

// Hop-by-hop fields (RFC 9110 7.6.1) and those the Connection field names end at the proxy.
template <class Fields>
void strip_hop_by_hop(Fields& f) {
    std::vector<std::string> named;
    for (auto token : http::token_list{f[http::field::connection]}) named.emplace_back(token);
    for (const auto& n : named) f.erase(n);
    for (auto field : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                       http::field::proxy_authorization, http::field::proxy_authenticate, http::field::te,
                       http::field::upgrade})
        f.erase(field);
}

bool is_http_error(const error_code& ec) {
    return ec.category() == make_error_code(http::error::bad_target).category();
}

std::chrono::milliseconds ms(std::uint32_t v) { return std::chrono::milliseconds(v); }

}  // namespace

Session::Session(Core& core, tcp::socket client)
    : core_(core), client_(std::move(client)), upstream_(core.ioc()), resolver_(core.ioc()), timer_(core.ioc()),
      client_buf_(core.limits().max_header_bytes + relay_buffer),
      upstream_buf_(core.limits().max_header_bytes + relay_buffer), id_(core.next_connection()) {}

Session::~Session() {
    close_decision("proxy stopped");
    close();
}

void Session::start() {
    admitted_ = true;
    up_buf_.resize(relay_buffer);
    down_buf_.resize(relay_buffer);
    watch();
    read_head();
}

void Session::refuse_busy() {
    down_buf_.resize(4096);  // for draining what the client sends meanwhile
    begin_decision("");
    watch();
    answer(503, "the proxy's connection limit (" + std::to_string(core_.limits().max_connections) + ") is reached",
           "connection_limit_reached");
}

void Session::abort(const std::string& reason) {
    if (phase_ == Phase::closed) return;
    close_decision(reason);
    close();
}

void Session::begin_decision(std::string method) {
    decision_.emplace();
    decision_->connection = id_;
    decision_->method = std::move(method);
    decision_start_ = Clock::now();
}

void Session::close_decision(const std::string& reason) {
    if (!decision_) return;
    if (decision_->reason.empty()) decision_->reason = reason;
    decision_->duration_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - decision_start_).count());
    ProxyDecision d = std::move(*decision_);
    decision_.reset();
    core_.record(std::move(d));
}

void Session::read_head() {
    phase_ = Phase::head;
    deadline_ = Clock::now() + ms(core_.limits().header_timeout_ms);
    req_.emplace();
    req_->header_limit(core_.limits().max_header_bytes);
    req_->body_limit(boost::none);  // bytes are bounded by the proxy's own limits instead
    http::async_read_header(client_, client_buf_, *req_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_head(ec); });
}

void Session::on_head(error_code ec) {
    if (phase_ != Phase::head) return;
    if (ec) {
        if (ec == http::error::end_of_stream) return close();  // the client is done: nothing to decide
        begin_decision("");
        if (ec == http::error::header_limit)
            return answer(431, "the request head is larger than " + std::to_string(core_.limits().max_header_bytes) + " bytes",
                          "http_request_error");
        if (ec == http::error::partial_message || !is_http_error(ec))
            return finish("the client closed the connection inside a request head (" + ec.message() + ")");
        return answer(400, "malformed request (" + ec.message() + ")", "http_request_error");
    }
    auto& req = req_->get();
    begin_decision(std::string(header_safe(req.method_string(), 32)));
    first_request_ = false;
    head_method_ = expect_continue_ = response_started_ = false;  // nothing carries over from the last exchange
    if (req.method() == http::verb::connect) on_connect_request();
    else on_http_request();
}

void Session::on_connect_request() {
    auto hp = split_authority(req_->get().target());
    if (!hp || hp->port == 0)
        return answer(400, "CONNECT needs an authority of the form host:port", "http_request_error");
    decision_->host = header_safe(hp->host, 300);
    decision_->port = port_ = hp->port;
    NameCheck check = core_.check_name(hp->host, port_);
    decision_->host = header_safe(check.host, 300);
    if (!check.allowed) return deny_name(check);
    decision_->pattern = check.pattern;
    resolve(check.host, port_);
}

void Session::on_http_request() {
    auto& req = req_->get();
    std::string_view target = req.target();
    auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos)
        return answer(400, "this is a forward proxy: send absolute-form requests (http://host/path) or CONNECT",
                      "http_request_error");
    std::string scheme(target.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "http")
        return answer(400, "only http:// URLs are forwarded; " + header_safe(scheme, 16) + " goes through CONNECT",
                      "http_request_error");
    std::string_view rest = target.substr(scheme_end + 3);
    auto path_at = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_at);
    auto hp = split_authority(authority);
    if (!hp) return answer(400, "the URL has no valid host[:port] (credentials in URLs are not forwarded)", "http_request_error");
    authority_ = std::string(authority);
    origin_target_ = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (origin_target_.front() != '/') origin_target_.insert(0, "/");
    if (auto hash = origin_target_.find('#'); hash != std::string::npos) origin_target_.erase(hash);
    port_ = hp->port ? hp->port : 80;
    decision_->port = port_;
    client_keep_alive_ = req.keep_alive();
    // Older clients say "Proxy-Connection: close" to a proxy where they mean Connection.
    for (auto token : http::token_list{req[http::field::proxy_connection]})
        if (beast::iequals(token, "close")) client_keep_alive_ = false;
    head_method_ = req.method() == http::verb::head;
    expect_continue_ = beast::iequals(req[http::field::expect], "100-continue");
    NameCheck check = core_.check_name(hp->host, port_);
    decision_->host = header_safe(check.host, 300);
    if (!check.allowed) return deny_name(check);
    decision_->pattern = check.pattern;
    resolve(check.host, port_);
}

void Session::deny_name(const NameCheck& check) {
    bool ip = check.reason.rfind("IP address", 0) == 0;
    answer(403, check.reason, ip ? "destination_ip_prohibited" : "http_request_denied");
}

void Session::resolve(const std::string& host, std::uint16_t port) {
    phase_ = Phase::connecting;
    deadline_ = Clock::now() + ms(core_.limits().connect_timeout_ms);
    if (const HostsTable* table = core_.hosts()) {
        const auto* found = table->find(host);
        std::vector<detail::IpAddr> list = found ? *found : std::vector<detail::IpAddr>{};
        std::string error = found ? "" : host + " is not in the proxy's hosts file";
        asio::post(core_.ioc(), [self = shared_from_this(), list, error] { self->on_addresses(list, error); });
        return;
    }
    resolver_.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service,
                            [self = shared_from_this(), host](error_code ec, const tcp::resolver::results_type& results) {
                                std::vector<detail::IpAddr> list;
                                for (const auto& r : results) {
                                    auto ip = to_ip(r.endpoint().address());
                                    if (std::find(list.begin(), list.end(), ip) == list.end()) list.push_back(ip);
                                }
                                self->on_addresses(list, ec ? "could not resolve " + host + " (" + ec.message() + ")" : "");
                            });
}

void Session::on_addresses(const std::vector<detail::IpAddr>& found, const std::string& error) {
    if (phase_ != Phase::connecting) return;  // timed out or aborted meanwhile
    if (!error.empty()) return answer(502, error, "dns_error");
    AddressCheck check = core_.check_addresses(decision_->host, found, port_);
    if (check.permitted.empty()) return answer(403, check.refused, "destination_ip_prohibited");
    decision_->allowed = true;
    // Exactly the checked addresses, in order: no second lookup can substitute another one.
    asio::async_connect(upstream_, check.permitted,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint& ep) { self->on_connected(ec, ep); });
}

void Session::on_connected(error_code ec, const tcp::endpoint& ep) {
    if (phase_ != Phase::connecting) return;
    if (ec)
        return answer(502, "could not connect to " + decision_->host + ":" + std::to_string(port_) + " (" + ec.message() + ")",
                      "connection_refused");
    decision_->address = ep.address().to_string();
    error_code ignored;
    upstream_.set_option(tcp::no_delay(true), ignored);
    client_.set_option(tcp::no_delay(true), ignored);
    last_activity_ = Clock::now();
    if (decision_->method == "CONNECT") start_tunnel();
    else forward_request_head();
}

void Session::start_tunnel() {
    phase_ = Phase::tunnel;
    decision_->status = 200;
    answer_ = "HTTP/1.1 200 Connection established\r\n\r\n";
    asio::async_write(client_, asio::buffer(answer_), [self = shared_from_this()](error_code ec, std::size_t n) {
        if (self->phase_ != Phase::tunnel) return;
        if (ec) return self->finish("client: " + ec.message());
        if (!self->admit(n, Dir::down)) return;
        auto start_pumps = [self] {
            self->open_directions_ = 2;
            self->pump(Dir::up);
            self->pump(Dir::down);
        };
        if (self->client_buf_.size() == 0) return start_pumps();
        // Bytes the client sent right behind its CONNECT head already belong to the tunnel.
        std::size_t early = self->client_buf_.size();
        if (!self->admit(early, Dir::up)) return;
        asio::async_write(self->upstream_, self->client_buf_.data(), [self, start_pumps](error_code ec2, std::size_t m) {
            if (self->phase_ != Phase::tunnel) return;
            if (ec2) return self->finish("upstream: " + ec2.message());
            self->client_buf_.consume(m);
            start_pumps();
        });
    });
}

void Session::pump(Dir d) {
    tcp::socket& from = d == Dir::up ? client_ : upstream_;
    std::vector<char>& buf = d == Dir::up ? up_buf_ : down_buf_;
    from.async_read_some(asio::buffer(buf), [self = shared_from_this(), d](error_code ec, std::size_t n) {
        if (self->phase_ != Phase::tunnel) return;
        if (ec) return self->on_pump_end(d, ec);
        self->last_activity_ = Clock::now();
        if (!self->admit(n, d)) return;
        tcp::socket& to = d == Dir::up ? self->upstream_ : self->client_;
        std::vector<char>& b = d == Dir::up ? self->up_buf_ : self->down_buf_;
        asio::async_write(to, asio::buffer(b.data(), n), [self, d](error_code ec2, std::size_t) {
            if (self->phase_ != Phase::tunnel) return;
            if (ec2) return self->finish(std::string(d == Dir::up ? "upstream: " : "client: ") + ec2.message());
            self->last_activity_ = Clock::now();
            self->pump(d);
        });
    });
}

void Session::on_pump_end(Dir d, error_code ec) {
    if (ec == asio::error::eof) {
        // Half close: pass the end on and keep the other direction running.
        error_code ignored;
        (d == Dir::up ? upstream_ : client_).shutdown(tcp::socket::shutdown_send, ignored);
        if (--open_directions_ == 0) finish("");
        return;
    }
    finish(std::string(d == Dir::up ? "client: " : "upstream: ") + ec.message());
}

void Session::forward_request_head() {
    phase_ = Phase::exchange;
    response_started_ = false;
    auto& req = req_->get();
    req.target(origin_target_);
    req.version(11);
    strip_hop_by_hop(req);
    req.set(http::field::host, authority_);  // RFC 9112 3.2.2: the URL's authority, not a received Host
    req.set(http::field::connection, "close");  // one upstream connection per exchange
    if (expect_continue_) req.erase(http::field::expect);
    auto send_head = [self = shared_from_this()] {
        self->req_sr_.emplace(self->req_->get());
        http::async_write_header(self->upstream_, *self->req_sr_, [self](error_code ec, std::size_t n) {
            if (self->phase_ != Phase::exchange) return;
            if (ec) return self->answer(502, "upstream: " + ec.message(), "http_protocol_error");
            if (!self->admit(n, Dir::up)) return;
            self->relay_request_body();
        });
    };
    if (!expect_continue_) return send_head();
    // The client waits for this before it sends its body; the upstream never sees the Expect.
    answer_ = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(client_, asio::buffer(answer_), [self = shared_from_this(), send_head](error_code ec, std::size_t n) {
        if (self->phase_ != Phase::exchange) return;
        if (ec) return self->finish("client: " + ec.message());
        if (!self->admit(n, Dir::down)) return;
        send_head();
    });
}

void Session::relay_request_body() {
    auto write_piece = [self = shared_from_this()] {
        http::async_write(self->upstream_, *self->req_sr_, [self](error_code ec, std::size_t n) {
            if (self->phase_ != Phase::exchange) return;
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return self->finish("upstream: " + ec.message());
            self->last_activity_ = Clock::now();
            if (!self->admit(n, Dir::up)) return;
            if (self->req_sr_->is_done()) self->read_response_head();
            else self->relay_request_body();
        });
    };
    auto& body = req_->get().body();
    if (req_->is_done()) {
        body.data = nullptr;
        body.size = 0;
        body.more = false;
        return write_piece();
    }
    body.data = up_buf_.data();
    body.size = up_buf_.size();
    http::async_read_some(client_, client_buf_, *req_, [self = shared_from_this(), write_piece](error_code ec, std::size_t) {
        if (self->phase_ != Phase::exchange) return;
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return self->finish("client: request body: " + ec.message());
        auto& b = self->req_->get().body();
        b.size = self->up_buf_.size() - b.size;
        // No bytes (only a chunk header was parsed): no data at all, or the serializer would
        // write an empty chunk, which is the end of a chunked body.
        b.data = b.size ? self->up_buf_.data() : nullptr;
        b.more = !self->req_->is_done();
        self->last_activity_ = Clock::now();
        write_piece();
    });
}

void Session::read_response_head() {
    res_.emplace();
    res_->header_limit(core_.limits().max_header_bytes);
    res_->body_limit(boost::none);
    if (head_method_) res_->skip(true);
    http::async_read_header(upstream_, upstream_buf_, *res_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_response_head(ec); });
}

void Session::on_response_head(error_code ec) {
    if (phase_ != Phase::exchange) return;
    if (ec) return answer(502, "the upstream sent no valid response head (" + ec.message() + ")", "http_protocol_error");
    last_activity_ = Clock::now();
    auto& res = res_->get();
    int status = static_cast<int>(res.result_int());
    if (status == 101)
        return answer(502, "the upstream switched protocols; upgrades are not relayed over plain HTTP (use CONNECT)",
                      "http_protocol_error");
    if (status >= 100 && status < 200) {  // interim response: pass it on, then read the final one
        answer_ = "HTTP/1.1 " + std::to_string(status) + " " + header_safe(res.reason(), 64) + "\r\n\r\n";
        asio::async_write(client_, asio::buffer(answer_), [self = shared_from_this()](error_code ec2, std::size_t n) {
            if (self->phase_ != Phase::exchange) return;
            if (ec2) return self->finish("client: " + ec2.message());
            if (!self->admit(n, Dir::down)) return;
            self->read_response_head();
        });
        return;
    }
    decision_->status = status;
    strip_hop_by_hop(res);
    bool keep = client_keep_alive_ && !res_->need_eof();
    if (req_->get().version() < 11 && res.chunked()) {  // an HTTP/1.0 client cannot read chunks
        res.chunked(false);
        keep = false;
    }
    res.version(11);
    res.keep_alive(keep);
    client_keep_alive_ = keep;
    response_started_ = true;
    res_sr_.emplace(res);
    http::async_write_header(client_, *res_sr_, [self = shared_from_this()](error_code ec2, std::size_t n) {
        if (self->phase_ != Phase::exchange) return;
        if (ec2) return self->finish("client: " + ec2.message());
        if (!self->admit(n, Dir::down)) return;
        self->relay_response_body();
    });
}

void Session::relay_response_body() {
    auto write_piece = [self = shared_from_this()] {
        http::async_write(self->client_, *self->res_sr_, [self](error_code ec, std::size_t n) {
            if (self->phase_ != Phase::exchange) return;
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return self->finish("client: " + ec.message());
            self->last_activity_ = Clock::now();
            if (!self->admit(n, Dir::down)) return;
            if (self->res_sr_->is_done()) self->end_exchange();
            else self->relay_response_body();
        });
    };
    auto& body = res_->get().body();
    if (res_->is_done()) {
        body.data = nullptr;
        body.size = 0;
        body.more = false;
        return write_piece();
    }
    body.data = down_buf_.data();
    body.size = down_buf_.size();
    http::async_read_some(upstream_, upstream_buf_, *res_, [self = shared_from_this(), write_piece](error_code ec, std::size_t) {
        if (self->phase_ != Phase::exchange) return;
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return self->finish("upstream: response body: " + ec.message());
        auto& b = self->res_->get().body();
        b.size = self->down_buf_.size() - b.size;
        // No bytes (only a chunk header was parsed): no data at all, or the serializer would
        // write an empty chunk, which is the end of a chunked body.
        b.data = b.size ? self->down_buf_.data() : nullptr;
        b.more = !self->res_->is_done();
        self->last_activity_ = Clock::now();
        write_piece();
    });
}

void Session::end_exchange() {
    close_decision("");
    error_code ignored;
    upstream_.close(ignored);
    upstream_buf_.clear();
    req_sr_.reset();
    res_sr_.reset();
    res_.reset();
    if (client_keep_alive_) return read_head();
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    close();
}

void Session::answer(int status, const std::string& reason, std::string_view proxy_status) {
    if (!decision_) begin_decision("");
    decision_->status = status;
    decision_->reason = reason;
    // Whatever read or write is still pending on the client ends now; the answer is the last word.
    error_code ignored;
    client_.cancel(ignored);
    phase_ = Phase::answering;
    deadline_ = Clock::now() + ms(std::min<std::uint32_t>(core_.limits().idle_timeout_ms, 5000));
    upstream_.close(ignored);
    resolver_.cancel();
    std::string what = decision_->host.empty() ? std::string("request")
                                               : decision_->method + " " + decision_->host + ":" + std::to_string(decision_->port);
    std::string body = "cordon proxy: " + what + (status == 403 ? " denied: " : " failed: ") + reason + "\n";
    std::string safe = header_safe(reason, 400);
    answer_ = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + " (cordon: " + header_safe(reason, 160) +
              ")\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\nProxy-Status: cordon; error=" + std::string(proxy_status) + "; details=\"" + safe +
              "\"\r\nX-Cordon-Reason: " + safe + "\r\n\r\n";
    if (!head_method_) answer_ += body;
    asio::async_write(client_, asio::buffer(answer_), [self = shared_from_this()](error_code ec, std::size_t n) {
        if (self->phase_ != Phase::answering) return;
        if (self->decision_) self->decision_->bytes_down += n;
        self->close_decision(ec ? "client: " + ec.message() : "");
        // Close gently: a client still sending its body would otherwise get a reset instead of the answer.
        error_code ignored2;
        self->client_.shutdown(tcp::socket::shutdown_send, ignored2);
        self->drain();
    });
}

void Session::drain() {
    client_.async_read_some(asio::buffer(down_buf_),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                                if (self->phase_ != Phase::answering) return;
                                self->drained_ += n;
                                if (ec || self->drained_ > 256 * 1024) return self->close();
                                self->drain();
                            });
}

void Session::finish(const std::string& reason) {
    close_decision(reason);
    close();
}

void Session::close() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    resolver_.cancel();
    timer_.cancel();
    if (admitted_) {
        admitted_ = false;
        core_.release_connection();
    }
}

bool Session::admit(std::uint64_t n, Dir d) {
    const ProxyLimits& l = core_.limits();
    if (connection_bytes_ + n > l.max_bytes_per_connection) {
        finish("the per-connection byte limit (" + std::to_string(l.max_bytes_per_connection) + " bytes) is reached");
        return false;
    }
    if (!core_.charge_total(n)) {
        finish("the proxy-wide byte limit (" + std::to_string(l.max_bytes_total) + " bytes) is reached");
        return false;
    }
    connection_bytes_ += n;
    if (decision_) (d == Dir::up ? decision_->bytes_up : decision_->bytes_down) += n;
    return true;
}

void Session::watch() {
    const ProxyLimits& l = core_.limits();
    std::uint32_t shortest = std::min({l.header_timeout_ms, l.connect_timeout_ms, l.idle_timeout_ms});
    timer_.expires_after(ms(std::clamp<std::uint32_t>(shortest / 4, 5, 500)));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->phase_ == Phase::closed) return;
        self->on_tick();
        if (self->phase_ != Phase::closed) self->watch();
    });
}

void Session::on_tick() {
    auto now = Clock::now();
    const ProxyLimits& l = core_.limits();
    switch (phase_) {
        case Phase::head:
            if (now <= deadline_) return;
            // Nothing of a next request on a kept-alive connection: simply close it.
            if (!first_request_ && client_buf_.size() == 0) return close();
            begin_decision("");
            return answer(408, "no complete request head within " + std::to_string(l.header_timeout_ms) + " ms",
                          "http_request_error");
        case Phase::connecting:
            if (now <= deadline_) return;
            return answer(504, "timed out after " + std::to_string(l.connect_timeout_ms) + " ms resolving or connecting to " +
                                   decision_->host + ":" + std::to_string(port_),
                          "connection_timeout");
        case Phase::tunnel:
        case Phase::exchange:
            if (now - last_activity_ <= ms(l.idle_timeout_ms)) return;
            if (phase_ == Phase::exchange && !response_started_)
                return answer(504, "the upstream sent no response within " + std::to_string(l.idle_timeout_ms) + " ms",
                              "connection_read_timeout");
            return finish("idle for more than " + std::to_string(l.idle_timeout_ms) + " ms");
        case Phase::answering:
            if (now > deadline_) close();
            return;
        case Phase::closed: return;
    }
}

}  // namespace cordon::proxy
