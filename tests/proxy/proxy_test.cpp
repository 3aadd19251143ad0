// SPDX-License-Identifier: MIT
// The filtering proxy in-process, against real loopback servers and raw clients: grants, denials, internal
// addresses, plain-HTTP forwarding, limits, hostile input, stop, and the JSON forms.
#include "cordon/filtering_proxy.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "loopback_peers.hpp"
#include "support/temp_tree.hpp"

using namespace cordon;
using cordon::test::Conn;
using cordon::test::Server;

namespace {

// Loopback test servers are "internal" addresses; most tests let 127.0.0.1 through explicitly, as an
// operator would, while 127.0.0.2 stays forbidden.
struct Fixture {
    test::TempTree tmp;
    ProxyConfig config;

    Fixture() {
        tmp.file("hosts",
                 "# test resolver\n"
                 "127.0.0.1 pkg.test api.pkg.test other.test\n"
                 "127.0.0.2 loop.test\n"
                 "169.254.169.254 metadata.test\n"
                 "100.100.100.200 alibaba.test\n"
                 "fd00:ec2::254 ec2v6.test\n"
                 "168.63.129.16 azure.test\n"
                 "::ffff:127.0.0.2 mapped.test\n"
                 "127.0.0.2 twofaced.test\n127.0.0.1 twofaced.test\n");
        config.resolver = ProxyResolver::hosts_file;
        config.hosts_file = tmp.path("hosts");
        config.allowed_internal = {"127.0.0.1/32"};
        config.allowed = *parse_domain_patterns({"pkg.test", "*.pkg.test", "loop.test", "metadata.test", "alibaba.test",
                                                 "ec2v6.test", "azure.test", "mapped.test", "twofaced.test", "*.wild.test", "tls.test:443"});
        config.limits.header_timeout_ms = 2000;
        config.limits.idle_timeout_ms = 2000;
        config.limits.connect_timeout_ms = 2000;
    }

    std::unique_ptr<FilteringProxy> start() {
        auto p = FilteringProxy::start(config);
        REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().to_string()));
        return std::move(*p);
    }
};

Conn connect_to(const FilteringProxy& p) {
    Conn c = Conn::to("127.0.0.1", p.port());
    REQUIRE(c.ok());
    return c;
}

std::string connect_request(const std::string& authority) {
    return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

// The decisions once the proxy has recorded at least `n` (they are written when an exchange ends).
std::vector<ProxyDecision> wait_decisions(const FilteringProxy& p, std::size_t n) {
    for (int i = 0; i < 200 && p.decisions().size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return p.decisions();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A test server accepts on its own thread: give it time to count what the kernel already accepted.
int settled_accepts(const Server& s, int expected) {
    for (int i = 0; i < 200 && s.accepted() < expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // and for any that should not be there
    return s.accepted();
}

}  // namespace

TEST_CASE("CONNECT to a granted name tunnels both ways and is recorded") {
    Fixture f;
    Server echo("127.0.0.1", test::echo_handler());
    auto proxy = f.start();
    CHECK(proxy->url() == "http://127.0.0.1:" + std::to_string(proxy->port()));
    Conn c = connect_to(*proxy);
    // Bytes sent right behind the CONNECT head (an eager TLS client) belong to the tunnel too.
    REQUIRE(c.send(connect_request("api.pkg.test:" + std::to_string(echo.port())) + "early"));
    std::string head = c.read_head();
    CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
    std::string rest = head.substr(head.find("\r\n\r\n") + 4);
    std::string payload(200000, 'x');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    REQUIRE(c.send(payload));
    std::string back = rest + c.read_n(5 + payload.size() - rest.size());
    CHECK(back == "early" + payload);
    c.shutdown_send();
    CHECK(c.closed_within(2000));
    auto d = wait_decisions(*proxy, 1);
    REQUIRE(d.size() == 1);
    CHECK(d[0].method == "CONNECT");
    CHECK(d[0].host == "api.pkg.test");
    CHECK(d[0].allowed);
    CHECK(d[0].pattern == "*.pkg.test");
    CHECK(d[0].address == "127.0.0.1");
    CHECK(d[0].status == 200);
    CHECK(d[0].reason.empty());
    CHECK(d[0].bytes_up == 5 + payload.size());
    CHECK(d[0].bytes_down == 5 + payload.size() + std::string("HTTP/1.1 200 Connection established\r\n\r\n").size());
    REQUIRE(echo.received().size() == 1);
    CHECK(echo.received()[0] == "early" + payload);  // the destination got exactly the client's bytes
}

TEST_CASE("denials: 403 naming cordon, the host and the reason; nothing reaches the destination") {
    Fixture f;
    Server echo("127.0.0.1", test::echo_handler());
    Server internal("127.0.0.2", test::echo_handler());
    auto proxy = f.start();
    std::string port = std::to_string(echo.port());
    std::string iport = std::to_string(internal.port());
    struct Case {
        std::string authority, reason_part;
    };
    std::vector<Case> cases = {
        {"other.test:" + port, "no granted domain pattern matches other.test:" + port},
        {"evil.example:" + port, "no granted domain pattern matches evil.example"},
        {"127.0.0.1:" + port, "IP address destinations are refused"},
        {"[::1]:" + port, "IP address destinations are refused"},
        {"2130706433:" + port, "IP address destinations are refused"},
        {"loop.test:" + iport, "127.0.0.2 is loopback"},
        {"mapped.test:" + iport, "::ffff:127.0.0.2 is loopback"},
        {"metadata.test:80", "169.254.169.254 is cloud-metadata"},
        {"alibaba.test:80", "100.100.100.200 is cloud-metadata"},
        {"ec2v6.test:80", "fd00:ec2::254 is cloud-metadata"},
        {"azure.test:80", "168.63.129.16 is cloud-metadata"},
        {"pkg.test..:" + port, "not a valid host name"},
        {"unlisted.pkg.test:" + port, "is not in the proxy's hosts file"},
        {"wild.test:443", "(*.wild.test covers names below wild.test, not wild.test itself)"},
        {"tls.test:80", "(tls.test is granted on port 443 only)"},
    };
    for (const auto& k : cases) {
        Conn c = connect_to(*proxy);
        REQUIRE(c.send(connect_request(k.authority)));
        std::string answer = c.read_all();
        INFO(k.authority << " -> " << answer);
        bool dns = contains(k.reason_part, "hosts file");
        CHECK(answer.rfind(dns ? "HTTP/1.1 502" : "HTTP/1.1 403", 0) == 0);
        CHECK(contains(answer, "\r\n\r\ncordon proxy: CONNECT "));
        CHECK(contains(answer, k.reason_part));
        CHECK(contains(answer, "Proxy-Status: cordon; error="));
    }
    CHECK(settled_accepts(echo, 0) == 0);
    CHECK(settled_accepts(internal, 0) == 0);
    auto d = wait_decisions(*proxy, cases.size());
    REQUIRE(d.size() == cases.size());
    for (const auto& x : d) {
        CHECK_FALSE(x.allowed);
        CHECK(x.address.empty());
    }
    CHECK(d[0].host == "other.test");
    CHECK(d[5].reason == "loop.test resolves only to internal addresses (127.0.0.2 is loopback), which the proxy does "
                         "not connect to unless the operator allows them");
}

TEST_CASE("of several addresses only the permitted ones are connected to") {
    Fixture f;
    Server allowed("127.0.0.1", test::echo_handler());
    // twofaced.test lists 127.0.0.2 first; the proxy must skip it, not try it.
    auto proxy = f.start();
    Conn c = connect_to(*proxy);
    REQUIRE(c.send(connect_request("twofaced.test:" + std::to_string(allowed.port()))));
    CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
    REQUIRE(c.send("ping"));
    CHECK(c.read_n(4) == "ping");
    auto d = proxy->decisions();
    c.shutdown_send();
    d = wait_decisions(*proxy, 1);
    REQUIRE(d.size() == 1);
    CHECK(d[0].address == "127.0.0.1");
}

TEST_CASE("an operator-named block lifts the internal-address refusal, and only that block") {
    Fixture f;
    f.config.allowed_internal = {"127.0.0.2/32"};
    Server internal("127.0.0.2", test::echo_handler());
    auto proxy = f.start();
    Conn c = connect_to(*proxy);
    REQUIRE(c.send(connect_request("loop.test:" + std::to_string(internal.port()))));
    CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
    Conn d = connect_to(*proxy);
    REQUIRE(d.send(connect_request("pkg.test:1")));  // 127.0.0.1 is no longer named
    CHECK(contains(d.read_all(), "127.0.0.1 is loopback"));
}

TEST_CASE("plain HTTP: absolute-form is forwarded as origin-form with hop-by-hop fields removed, keep-alive works") {
    Fixture f;
    Server web("127.0.0.1", test::http_handler("hello from upstream"));
    auto proxy = f.start();
    std::string authority = "pkg.test:" + std::to_string(web.port());
    Conn c = connect_to(*proxy);
    for (int i = 0; i < 2; ++i) {
        REQUIRE(c.send("GET http://" + authority + "/simple/x/?q=1#frag HTTP/1.1\r\nHost: evil.example\r\n"
                       "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic c2VjcmV0\r\nConnection: X-Secret\r\n"
                       "X-Secret: 1\r\nUser-Agent: t\r\n\r\n"));
        std::string answer = c.read_until([](const std::string& s) { return contains(s, "hello from upstream"); });
        CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
        CHECK_FALSE(contains(answer, "Connection: close"));  // the client asked to keep it open
    }
    auto got = web.received();
    REQUIRE(got.size() == 2);
    CHECK(got[0].rfind("GET /simple/x/?q=1 HTTP/1.1\r\n", 0) == 0);
    CHECK(contains(got[0], "Host: " + authority + "\r\n"));
    CHECK_FALSE(contains(got[0], "evil.example"));
    CHECK_FALSE(contains(got[0], "Proxy-"));
    CHECK_FALSE(contains(got[0], "X-Secret"));
    CHECK(contains(got[0], "User-Agent: t"));
    auto d = wait_decisions(*proxy, 2);
    REQUIRE(d.size() == 2);
    CHECK(d[0].connection == d[1].connection);
    CHECK(d[0].method == "GET");
    CHECK(d[0].status == 200);
    CHECK(d[0].allowed);
    CHECK(d[0].bytes_down > 19);
}

TEST_CASE("plain HTTP: request bodies (chunked and Content-Length), Expect: 100-continue, HEAD") {
    Fixture f;
    Server web("127.0.0.1", test::http_handler("ok"));
    auto proxy = f.start();
    std::string url = "http://pkg.test:" + std::to_string(web.port()) + "/upload";
    std::string big(300000, 'b');
    {
        Conn c = connect_to(*proxy);
        REQUIRE(c.send("POST " + url + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" +
                       "6\r\n world\r\n0\r\n\r\n"));
        CHECK(contains(c.read_until([](const std::string& s) { return contains(s, "\r\n\r\nok"); }), "200 OK"));
    }
    {
        Conn c = connect_to(*proxy);
        REQUIRE(c.send("PUT " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
                       "\r\nExpect: 100-continue\r\n\r\n"));
        CHECK(c.read_head().rfind("HTTP/1.1 100 Continue", 0) == 0);
        REQUIRE(c.send(big));
        CHECK(contains(c.read_until([](const std::string& s) { return contains(s, "\r\n\r\nok"); }), "200 OK"));
    }
    {
        Conn c = connect_to(*proxy);
        REQUIRE(c.send("HEAD " + url + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        std::string answer = c.read_all();
        CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
        CHECK(answer.substr(answer.find("\r\n\r\n") + 4).empty());  // no body after a HEAD
    }
    {
        // After a HEAD on a kept-alive connection, a refusal still carries its body.
        Conn c = connect_to(*proxy);
        REQUIRE(c.send("HEAD " + url + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        CHECK(c.read_head().rfind("HTTP/1.1 200 OK", 0) == 0);
        REQUIRE(c.send("GET http://evil.test/ HTTP/1.1\r\nHost: x\r\n\r\n"));
        CHECK(contains(c.read_all(), "\r\n\r\ncordon proxy: GET evil.test:80 denied"));
    }
    auto got = web.received();
    REQUIRE(got.size() == 4);
    std::string chunked_body = got[0].substr(got[0].find("\r\n\r\n") + 4);
    INFO(got[0]);
    CHECK(contains(chunked_body, "hello"));
    CHECK(contains(chunked_body, " world"));
    CHECK(got[1].substr(got[1].find("\r\n\r\n") + 4) == big);
    CHECK_FALSE(contains(got[1], "Expect"));
    CHECK(got[2].rfind("HEAD /upload HTTP/1.1", 0) == 0);
}

TEST_CASE("malformed and unsupported requests get 400 with a reason, never a crash") {
    Fixture f;
    auto proxy = f.start();
    std::vector<std::pair<std::string, std::string>> cases = {
        {"GET /local HTTP/1.1\r\nHost: pkg.test\r\n\r\n", "forward proxy"},
        {"GET https://pkg.test/ HTTP/1.1\r\nHost: pkg.test\r\n\r\n", "goes through CONNECT"},
        {"GET http://user:pw@pkg.test/ HTTP/1.1\r\n\r\n", "credentials"},
        {"CONNECT pkg.test HTTP/1.1\r\n\r\n", "host:port"},
        {"CONNECT pkg.test:0 HTTP/1.1\r\n\r\n", "host:port"},
        {"CONNECT pkg.test:99999 HTTP/1.1\r\n\r\n", "host:port"},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", "malformed request"},
        {"GET http://pkg.test/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "malformed request"},
        {"GET http://pkg.test/ HTTP/1.1\r\nBad Header\r\n\r\n", "malformed request"},
    };
    for (const auto& pair : cases) {  // (not a structured binding: INFO's lambda captures it)
        const auto& request = pair.first;
        const auto& reason = pair.second;
        Conn c = connect_to(*proxy);
        REQUIRE(c.send(request));
        std::string answer = c.read_all();
        INFO(request);
        CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
        CHECK(contains(answer, reason));
    }
    // The proxy still serves afterwards.
    Server web("127.0.0.1", test::http_handler("alive"));
    Conn c = connect_to(*proxy);
    REQUIRE(c.send("GET http://pkg.test:" + std::to_string(web.port()) + "/ HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK(contains(c.read_all(), "alive"));
}

TEST_CASE("random bytes do not crash or wedge the proxy") {
    Fixture f;
    f.config.limits.header_timeout_ms = 300;
    auto proxy = f.start();
    std::mt19937 rng(7);
    for (int i = 0; i < 150; ++i) {
        std::string junk;
        int n = std::uniform_int_distribution<int>(1, 3000)(rng);
        for (int k = 0; k < n; ++k) junk += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        if (i % 3 == 0) junk = "CONNECT " + junk;
        if (i % 3 == 1) junk = "GET http://" + junk;
        Conn c = connect_to(*proxy);
        c.send(junk);
        c.shutdown_send();
        std::string answer = c.read_all();
        CHECK((answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0 || answer.rfind("HTTP/1.1 5", 0) == 0));
    }
    Server web("127.0.0.1", test::http_handler("still here"));
    Conn c = connect_to(*proxy);
    REQUIRE(c.send("GET http://pkg.test:" + std::to_string(web.port()) + "/ HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK(contains(c.read_all(), "still here"));
}

TEST_CASE("limits: head size, slowloris, idle tunnels, connections, bytes") {
    Fixture f;
    SUBCASE("a request head larger than the limit gets 431") {
        f.config.limits.max_header_bytes = 1024;
        auto proxy = f.start();
        Conn c = connect_to(*proxy);
        c.send("GET http://pkg.test/ HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
        std::string answer = c.read_all();
        CHECK(answer.rfind("HTTP/1.1 431", 0) == 0);
        CHECK(contains(answer, "larger than 1024 bytes"));
    }
    SUBCASE("a head sent byte by byte is cut off at the header timeout (408)") {
        f.config.limits.header_timeout_ms = 400;
        auto proxy = f.start();
        Conn c = connect_to(*proxy);
        auto begin = std::chrono::steady_clock::now();
        std::string answer;
        for (char ch : std::string("GET http://pkg.test/ HTTP/1.1\r\nX-Slow: ") + std::string(100, 'z')) {
            if (!c.send(std::string(1, ch))) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (c.closed_within(1)) break;
        }
        answer = c.read_all();
        auto took = std::chrono::steady_clock::now() - begin;
        CHECK(took < std::chrono::milliseconds(1900));  // 2.1 s of trickle was not waited out
        if (!answer.empty()) CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
        auto d = wait_decisions(*proxy, 1);
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].reason, "no complete request head within 400 ms"));
    }
    SUBCASE("an idle tunnel is closed after the idle timeout") {
        f.config.limits.idle_timeout_ms = 300;
        Server echo("127.0.0.1", test::echo_handler());
        auto proxy = f.start();
        Conn c = connect_to(*proxy);
        c.send(connect_request("pkg.test:" + std::to_string(echo.port())));
        CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
        CHECK(c.closed_within(1500));
        auto d = wait_decisions(*proxy, 1);
        REQUIRE(d.size() == 1);
        CHECK(d[0].reason == "idle for more than 300 ms");
    }
    SUBCASE("connections over the limit are answered 503") {
        f.config.limits.max_connections = 2;
        Server echo("127.0.0.1", test::echo_handler());
        auto proxy = f.start();
        Conn a = connect_to(*proxy), b = connect_to(*proxy);
        a.send(connect_request("pkg.test:" + std::to_string(echo.port())));
        b.send(connect_request("pkg.test:" + std::to_string(echo.port())));
        CHECK(a.read_head().rfind("HTTP/1.1 200", 0) == 0);
        CHECK(b.read_head().rfind("HTTP/1.1 200", 0) == 0);
        Conn third = connect_to(*proxy);
        std::string answer = third.read_all();
        CHECK(answer.rfind("HTTP/1.1 503", 0) == 0);
        CHECK(contains(answer, "connection limit (2)"));
        CHECK(settled_accepts(echo, 2) == 2);
        a = Conn();  // one closes: a new connection is served again
        bool served = false;
        for (int i = 0; i < 100 && !served; ++i) {
            Conn again = connect_to(*proxy);
            again.send(connect_request("pkg.test:" + std::to_string(echo.port())));
            served = again.read_head().rfind("HTTP/1.1 200", 0) == 0;
            if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        CHECK(served);
        CHECK(settled_accepts(echo, 3) == 3);
        CHECK(proxy->stats().refused_connections >= 1);
    }
    SUBCASE("a connection stops at its byte limit; the destination never gets more") {
        f.config.limits.max_bytes_per_connection = 100000;
        Server echo("127.0.0.1", test::echo_handler());
        auto proxy = f.start();
        Conn c = connect_to(*proxy);
        c.send(connect_request("pkg.test:" + std::to_string(echo.port())));
        CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
        std::string chunk(10000, 'q');
        for (int i = 0; i < 40 && c.send(chunk); ++i) c.read_n(chunk.size());
        CHECK(c.closed_within(2000));
        auto d = wait_decisions(*proxy, 1);
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].reason, "per-connection byte limit (100000 bytes)"));
        CHECK(d[0].bytes_up + d[0].bytes_down <= 100000);
        for (int i = 0; i < 100 && echo.received().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(echo.received().size() == 1);
        CHECK(echo.received()[0].size() <= 100000);
    }
    SUBCASE("the proxy-wide byte limit ends every connection") {
        f.config.limits.max_bytes_total = 50000;
        Server echo("127.0.0.1", test::echo_handler());
        auto proxy = f.start();
        Conn c = connect_to(*proxy);
        c.send(connect_request("pkg.test:" + std::to_string(echo.port())));
        CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
        std::string chunk(10000, 'q');
        for (int i = 0; i < 10 && c.send(chunk); ++i) c.read_n(chunk.size());
        CHECK(c.closed_within(2000));
        auto d = wait_decisions(*proxy, 1);
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].reason, "proxy-wide byte limit (50000 bytes)"));
        CHECK(proxy->stats().bytes <= 50000 + 10000);
    }
}

TEST_CASE("upstream failures: refused connect (502), no response (504)") {
    Fixture f;
    f.config.limits.idle_timeout_ms = 300;
    int port;
    {
        Server gone("127.0.0.1", test::echo_handler());  // a port that is closed again
        port = gone.port();
    }
    Server silent("127.0.0.1", [](Conn& c, Server&) { c.read_until([](const std::string&) { return false; }); });
    auto proxy = f.start();
    Conn a = connect_to(*proxy);
    a.send(connect_request("pkg.test:" + std::to_string(port)));
    std::string refused = a.read_all();
    CHECK(refused.rfind("HTTP/1.1 502", 0) == 0);
    CHECK(contains(refused, "could not connect to pkg.test:" + std::to_string(port)));
    Conn b = connect_to(*proxy);
    b.send("GET http://pkg.test:" + std::to_string(silent.port()) + "/ HTTP/1.1\r\n\r\n");
    std::string timeout = b.read_all();
    CHECK(timeout.rfind("HTTP/1.1 504", 0) == 0);
    CHECK(contains(timeout, "no response within 300 ms"));
    auto d = wait_decisions(*proxy, 2);
    REQUIRE(d.size() == 2);
    CHECK(d[0].allowed);  // the policy let it through; the destination failed
    CHECK(d[0].status == 502);
}

TEST_CASE("stop ends open tunnels, records them, and closes the port") {
    Fixture f;
    Server echo("127.0.0.1", test::echo_handler());
    auto proxy = f.start();
    std::uint16_t port = proxy->port();
    Conn c = connect_to(*proxy);
    c.send(connect_request("pkg.test:" + std::to_string(echo.port())));
    CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
    proxy->stop();
    proxy->stop();  // idempotent
    CHECK(c.closed_within(1000));
    auto d = proxy->decisions();
    REQUIRE(d.size() == 1);
    CHECK(d[0].reason == "proxy stopped");
    CHECK_FALSE(Conn::to("127.0.0.1", port).ok());
}

TEST_CASE("configuration is checked at start") {
    Fixture f;
    ProxyConfig c = f.config;
    c.listen_address = "0.0.0.0";
    CHECK(FilteringProxy::start(c).error().message.find("loopback") != std::string::npos);
    c = f.config;
    c.allowed_internal = {"10.0.0.1/8"};
    auto bad = FilteringProxy::start(c);
    REQUIRE(!bad);
    CHECK(bad.error().where == "/allowedInternal/0");
    c = f.config;
    c.hosts_file = f.tmp.file("bad-hosts", "127.0.0.1 ok.test\nnot-an-ip bad.test\n");
    auto hosts = FilteringProxy::start(c);
    REQUIRE(!hosts);
    CHECK(hosts.error().message.find("line 2") != std::string::npos);
    c.hosts_file = f.tmp.path("missing");
    CHECK(FilteringProxy::start(c).error().code == ErrorCode::io_error);
    REQUIRE(::mkfifo(f.tmp.path("fifo").c_str(), 0600) == 0);  // refused, not waited on
    c.hosts_file = f.tmp.path("fifo");
    auto fifo = FilteringProxy::start(c);
    REQUIRE(!fifo);
    CHECK(fifo.error().message.find("cannot read the hosts file") != std::string::npos);
    c = f.config;
    c.limits.max_connections = 0;
    CHECK(!FilteringProxy::start(c));
}

TEST_CASE("adopt takes over only a listening TCP socket bound to loopback") {
    Fixture f;
    auto bound = [](const char* ip, bool listen) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, ip, &a.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        if (listen) REQUIRE(::listen(fd, 8) == 0);
        return fd;
    };
    int idle = bound("127.0.0.1", false);
    auto e1 = FilteringProxy::adopt(idle, f.config);
    REQUIRE(!e1);
    CHECK(e1.error().message.find("not a listening socket") != std::string::npos);
    CHECK(::fcntl(idle, F_GETFD) != -1);  // still the caller's
    ::close(idle);
    int wide = bound("0.0.0.0", true);
    auto e2 = FilteringProxy::adopt(wide, f.config);
    REQUIRE(!e2);
    CHECK(e2.error().message.find("loopback address, not 0.0.0.0") != std::string::npos);
    ::close(wide);
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    CHECK(!FilteringProxy::adopt(pipefd[0], f.config));
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    Server echo("127.0.0.1", test::echo_handler());
    int good = bound("127.0.0.1", true);
    auto p = FilteringProxy::adopt(good, f.config);
    REQUIRE(p);
    Conn c = connect_to(**p);
    c.send(connect_request("pkg.test:" + std::to_string(echo.port())));
    CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("JSON forms: decisions and the configuration round-trip; bad input is refused") {
    ProxyDecision d;
    d.connection = 3;
    d.method = "CONNECT";
    d.host = "api.pkg.test";
    d.port = 443;
    d.allowed = true;
    d.pattern = "*.pkg.test:443";
    d.address = "198.51.100.7";
    d.status = 200;
    d.reason = "idle \"quoted\"\n";
    d.bytes_up = 1;
    d.bytes_down = 2;
    d.duration_ms = 9;
    auto back = ProxyDecision::from_json(d.to_json());
    REQUIRE(back);
    CHECK(back->to_json() == d.to_json());
    CHECK(d.to_json().find('\n') == std::string::npos);  // one line
    CHECK(!ProxyDecision::from_json("{\"allowed\":true,\"extra\":1}"));
    CHECK(!ProxyDecision::from_json("[]"));
    CHECK(!ProxyDecision::from_json("{\"port\":70000,\"allowed\":true}"));

    ProxyConfig c;
    c.allowed = *parse_domain_patterns({"pypi.org", "*.github.com:443"});
    c.allowed_internal = {"127.0.0.1/32"};
    c.resolver = ProxyResolver::hosts_file;
    c.hosts_file = "/tmp/h";
    c.limits.max_connections = 5;
    c.limits.max_bytes_total = 1ull << 40;
    auto rc = proxy_config_from_json(proxy_config_to_json(c));
    REQUIRE(rc);
    CHECK(proxy_config_to_json(*rc) == proxy_config_to_json(c));
    CHECK(rc->allowed[1].to_string() == "*.github.com:443");
    CHECK(rc->limits.max_bytes_total == 1ull << 40);
    auto e = proxy_config_from_json(R"({"allowedDomains":["ok.test","*"]})");
    REQUIRE(!e);
    CHECK(e.error().where == "/allowedDomains/1");
    CHECK(proxy_config_from_json(R"({"limits":{"maxConnections":-1}})").error().where == "/limits/maxConnections");
    CHECK(proxy_config_from_json(R"({"resolver":"dns"})").error().where == "/resolver");
    CHECK(proxy_config_from_json(R"({"unknown":1})").error().message.find("unknown") != std::string::npos);
    CHECK(!proxy_config_from_json("not json"));
}

TEST_CASE("the workload's proxy environment") {
    auto env = proxy_environment("http://10.0.2.2:3128");
    std::vector<std::string> want = {"HTTP_PROXY=http://10.0.2.2:3128", "http_proxy=http://10.0.2.2:3128",
                                     "HTTPS_PROXY=http://10.0.2.2:3128", "https_proxy=http://10.0.2.2:3128",
                                     "ALL_PROXY=http://10.0.2.2:3128",  "all_proxy=http://10.0.2.2:3128",
                                     "NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1"};
    CHECK(env == want);
}
