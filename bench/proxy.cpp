// SPDX-License-Identifier: MIT
// cordon-bench proxy: throughput and added latency through the filtering proxy versus direct, interleaved in one run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks.hpp"
#include "cordon/filtering_proxy.hpp"

namespace cordon::bench {

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

int dial(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void send_all(int fd, const char* p, std::size_t n) {
    while (n) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) throw std::runtime_error("send failed");
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

std::string read_line(int fd) {
    std::string s;
    char c;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') s += c;
    return s;
}

// Reads through the end of an HTTP head ("\r\n\r\n"); returns what followed it.
std::string skip_head(int fd) {
    std::string s;
    char buf[4096];
    while (s.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) throw std::runtime_error("connection closed inside a head");
        s.append(buf, static_cast<std::size_t>(n));
    }
    return s.substr(s.find("\r\n\r\n") + 4);
}

// One thread per connection. "S N\n": send N bytes. "P\n": echo until EOF. "GET ...": a 1 KiB response.
class Origin {
public:
    Origin() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("origin cannot listen");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~Origin() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::thread([c] { serve(c); }).detach();
        }
    }
    static void serve(int c) {
        try {
            std::string cmd = read_line(c);
            if (cmd.rfind("S ", 0) == 0) {
                std::size_t left = std::stoull(cmd.substr(2));
                std::vector<char> buf(256 * 1024, 'x');
                while (left) {
                    std::size_t n = std::min(left, buf.size());
                    send_all(c, buf.data(), n);
                    left -= n;
                }
            } else if (cmd == "P") {
                char b[64];
                ssize_t n;
                while ((n = ::recv(c, b, sizeof b, 0)) > 0) send_all(c, b, static_cast<std::size_t>(n));
            } else if (cmd.rfind("GET ", 0) == 0) {
                while (read_line(c) != "\r") {}
                std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n" + std::string(1024, 'r');
                send_all(c, r.data(), r.size());
            }
        } catch (const std::exception&) {
        }
        ::close(c);
    }
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A connection to the origin, either direct or through a CONNECT tunnel; returns the fd.
int open_path(std::uint16_t origin, std::uint16_t proxy) {
    if (!proxy) return dial(origin);
    int fd = dial(proxy);
    std::string req = "CONNECT bench.test:" + std::to_string(origin) + " HTTP/1.1\r\n\r\n";
    send_all(fd, req.data(), req.size());
    if (!skip_head(fd).empty()) throw std::runtime_error("unexpected bytes after CONNECT");
    return fd;
}

double download_mib_s(std::uint16_t origin, std::uint16_t proxy, std::size_t bytes) {
    auto t = Clock::now();
    int fd = open_path(origin, proxy);
    std::string cmd = "S " + std::to_string(bytes) + "\n";
    send_all(fd, cmd.data(), cmd.size());
    std::vector<char> buf(256 * 1024);
    std::size_t got = 0;
    while (got < bytes) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n <= 0) throw std::runtime_error("download cut short");
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return static_cast<double>(bytes) / (1024.0 * 1024.0) / (us_since(t) / 1e6);
}

double rtt_us(std::uint16_t origin, std::uint16_t proxy, int pings) {
    int fd = open_path(origin, proxy);
    send_all(fd, "P\n", 2);
    std::vector<double> samples;
    for (int i = 0; i < pings; ++i) {
        auto t = Clock::now();
        send_all(fd, "x", 1);
        char c;
        if (::recv(fd, &c, 1, 0) != 1) throw std::runtime_error("ping lost");
        samples.push_back(us_since(t));
    }
    ::close(fd);
    return median(samples);
}

double setup_us(std::uint16_t origin, std::uint16_t proxy) {
    auto t = Clock::now();
    int fd = open_path(origin, proxy);
    double us = us_since(t);
    ::close(fd);
    return us;
}

double http_get_us(std::uint16_t origin, std::uint16_t proxy) {
    auto t = Clock::now();
    int fd = dial(proxy ? proxy : origin);
    std::string target = proxy ? "http://bench.test:" + std::to_string(origin) + "/x" : "/x";
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n";
    send_all(fd, req.data(), req.size());
    std::string body = skip_head(fd);
    char buf[4096];
    ssize_t n;
    while (body.size() < 1024 && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) body.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (body.size() != 1024) throw std::runtime_error("short HTTP response");
    return us_since(t);
}

void line(const std::string& op, const std::string& fields) { std::cout << "{\"op\":\"" << op << "\"," << fields << "}\n"; }

std::string num(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

}  // namespace

int run_proxy(const Args& args) {
    std::size_t mib = 128;
    int rounds = 5;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--mib" && i + 1 < args.size()) mib = std::stoul(std::string(args[++i]));
        else if (args[i] == "--rounds" && i + 1 < args.size()) rounds = std::stoi(std::string(args[++i]));
        else {
            std::cerr << "usage: cordon-bench proxy [--mib N] [--rounds N]\n";
            return 2;
        }
    }
    Origin origin;
    char hosts[] = "/tmp/cordon-bench-hosts-XXXXXX";
    int hfd = ::mkstemp(hosts);
    std::string line1 = "127.0.0.1 bench.test\n";
    if (::write(hfd, line1.data(), line1.size()) != static_cast<ssize_t>(line1.size())) return 1;
    ::close(hfd);
    ProxyConfig config;
    config.allowed = *parse_domain_patterns({"bench.test"});
    config.allowed_internal = {"127.0.0.1/32"};  // the origin is on loopback
    config.resolver = ProxyResolver::hosts_file;
    config.hosts_file = hosts;
    config.limits.max_bytes_total = ~std::uint64_t{0};
    config.limits.max_bytes_per_connection = ~std::uint64_t{0};
    config.limits.max_decisions = 1000000;
    auto proxy = FilteringProxy::start(config);
    ::unlink(hosts);
    if (!proxy) {
        std::cerr << "cordon-bench proxy: " << proxy.error().to_string() << "\n";
        return 1;
    }
    std::uint16_t o = origin.port(), p = (*proxy)->port();
    // Interleaved: each round measures direct and proxied back to back, so both see the same load.
    std::vector<double> td, tp, rd, rp, sd, sp, gd, gp;
    for (int r = 0; r < rounds; ++r) {
        td.push_back(download_mib_s(o, 0, mib << 20));
        tp.push_back(download_mib_s(o, p, mib << 20));
        rd.push_back(rtt_us(o, 0, 2000));
        rp.push_back(rtt_us(o, p, 2000));
        for (int k = 0; k < 100; ++k) {
            sd.push_back(setup_us(o, 0));
            sp.push_back(setup_us(o, p));
            gd.push_back(http_get_us(o, 0));
            gp.push_back(http_get_us(o, p));
        }
    }
    double a = median(td), b = median(tp);
    line("proxy-throughput", "\"mib\":" + std::to_string(mib) + ",\"rounds\":" + std::to_string(rounds) + ",\"direct_mib_s\":" +
                                 num(a) + ",\"proxy_mib_s\":" + num(b) + ",\"ratio\":" + num(b / a));
    auto latency = [](const char* op, double d, double x) {
        line(op, "\"direct_median_us\":" + num(d) + ",\"proxy_median_us\":" + num(x) + ",\"added_us\":" + num(x - d) +
                     ",\"ratio\":" + num(x / d));
    };
    latency("proxy-tunnel-rtt", median(rd), median(rp));
    latency("proxy-connect-setup", median(sd), median(sp));
    latency("proxy-http-get", median(gd), median(gp));
    (*proxy)->stop();
    return 0;
}

}  // namespace cordon::bench
