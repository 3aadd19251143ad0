// SPDX-License-Identifier: MIT
// The proxy on any platform (Winsock under wine, POSIX natively): a tunnel, a plain-HTTP exchange and the refusals, with Asio peers.
#include "cordon/filtering_proxy.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

using namespace cordon;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Echoes one connection's bytes until it closes; "GET" starts a one-shot HTTP answer instead.
class Origin {
public:
    Origin() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        thread_ = std::thread([this] {
            for (int served = 0; served < 2; ++served) {
                tcp::socket s(io_);
                boost::system::error_code ec;
                acceptor_.accept(s, ec);
                if (ec) return;
                char buf[4096];
                std::size_t n = s.read_some(asio::buffer(buf), ec);
                std::string first(buf, ec ? 0 : n);
                if (first.rfind("GET ", 0) == 0) {
                    received_http_ = first;
                    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")), ec);
                    continue;
                }
                while (!ec) {
                    asio::write(s, asio::buffer(buf, n), ec);
                    n = s.read_some(asio::buffer(buf), ec);
                }
            }
        });
    }
    ~Origin() {
        boost::system::error_code ec;
        acceptor_.close(ec);
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string received_http_;

private:
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

std::string talk(std::uint16_t proxy, const std::string& request, std::size_t expect = 0) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy));
    asio::write(s, asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (!ec && (expect == 0 || out.size() < expect)) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (!ec) out.append(buf, n);
    }
    return out;
}

}  // namespace

TEST_CASE("smoke: tunnel, plain HTTP and refusals on this platform's sockets") {
    auto dir = std::filesystem::temp_directory_path() / ("cordon-proxy-smoke-" + std::to_string(std::rand()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "hosts") << "127.0.0.1 pkg.test\n169.254.169.254 metadata.test\n";
    Origin origin;
    ProxyConfig c;
    c.allowed = *parse_domain_patterns({"pkg.test", "metadata.test"});
    c.allowed_internal = {"127.0.0.1/32"};
    c.resolver = ProxyResolver::hosts_file;
    c.hosts_file = (dir / "hosts").string();
    auto proxy = FilteringProxy::start(c);
    REQUIRE_MESSAGE(proxy.has_value(), (proxy ? "" : proxy.error().to_string()));
    std::uint16_t p = (*proxy)->port();
    std::string port = std::to_string(origin.port());

    std::string connect = "CONNECT pkg.test:" + port + " HTTP/1.1\r\n\r\n";
    std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
    CHECK(talk(p, connect + "ping", established.size() + 4) == established + "ping");
    std::string http = talk(p, "GET http://pkg.test:" + port + "/x HTTP/1.1\r\nProxy-Connection: close\r\n\r\n");
    CHECK(http.rfind("HTTP/1.1 200 OK", 0) == 0);
    CHECK(origin.received_http_.rfind("GET /x HTTP/1.1\r\n", 0) == 0);
    CHECK(origin.received_http_.find("Proxy-Connection") == std::string::npos);
    std::string denied = talk(p, "CONNECT evil.test:443 HTTP/1.1\r\n\r\n");
    CHECK(denied.rfind("HTTP/1.1 403", 0) == 0);
    CHECK(denied.find("no granted domain pattern matches evil.test:443") != std::string::npos);
    CHECK(talk(p, "CONNECT metadata.test:80 HTTP/1.1\r\n\r\n").find("169.254.169.254 is cloud-metadata") != std::string::npos);
    CHECK(talk(p, "CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\n\r\n").find("IP address destinations") != std::string::npos);
    (*proxy)->stop();
    auto d = (*proxy)->decisions();
    REQUIRE(d.size() == 5);
    CHECK(d[0].allowed);
    CHECK(d[0].bytes_up == 4);
    CHECK_FALSE(d[2].allowed);
    std::filesystem::remove_all(dir);
}
