// SPDX-License-Identifier: MIT
// Test peers on loopback for the proxy tests: a threaded TCP server that records what it received, and a raw client with timeouts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cordon::test {

inline void set_timeouts(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/// A connected socket (owned); every read and write times out instead of hanging a test.
class Conn {
public:
    explicit Conn(int fd = -1) : fd_(fd) {}
    Conn(Conn&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Conn& operator=(Conn&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Conn() {
        if (fd_ >= 0) ::close(fd_);
    }
    static Conn to(const std::string& ip, std::uint16_t port, int timeout_ms = 5000) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        set_timeouts(fd, timeout_ms);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            return Conn(-1);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return Conn(fd);
    }
    bool ok() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    bool send(const std::string& s) {
        std::size_t done = 0;
        while (done < s.size()) {
            ssize_t n = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    /// Reads until `stop` returns true for what was read, EOF, an error or the timeout.
    std::string read_until(const std::function<bool(const std::string&)>& stop) {
        std::string out;
        char buf[16384];
        while (!stop(out)) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    std::string read_all() { return read_until([](const std::string&) { return false; }); }
    std::string read_head() {
        return read_until([](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
    }
    std::string read_n(std::size_t n) {
        return read_until([n](const std::string& s) { return s.size() >= n; });
    }
    /// True when the peer closed (EOF or reset) within `ms`.
    bool closed_within(int ms) {
        pollfd p{fd_, POLLIN, 0};
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < end) {
            if (::poll(&p, 1, 20) > 0) {
                char c;
                ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
                if (n <= 0) return true;
            }
        }
        return false;
    }
    void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

private:
    int fd_;
};

/// A TCP server on a loopback address with one thread per connection; it records every connection
/// and the bytes each one sent, so tests can check what reached (or never reached) the destination.
class Server {
public:
    using Handler = std::function<void(Conn&, Server&)>;

    Server(const std::string& ip, Handler handler) : ip_(ip), handler_(std::move(handler)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0)
            throw std::runtime_error("test server cannot listen on " + ip);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~Server() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
        for (auto& t : workers_) t.join();
    }
    std::uint16_t port() const { return port_; }
    const std::string& ip() const { return ip_; }
    int accepted() const { return accepted_.load(); }
    void note(const std::string& received) {
        std::lock_guard<std::mutex> lock(mutex_);
        received_.push_back(received);
    }
    std::vector<std::string> received() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            ++accepted_;
            set_timeouts(c, 5000);
            workers_.emplace_back([this, c] {
                Conn conn(c);
                handler_(conn, *this);
            });
        }
    }
    std::string ip_;
    Handler handler_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread thread_;
    std::vector<std::thread> workers_;
    mutable std::mutex mutex_;
    std::vector<std::string> received_;
};

/// Echoes every byte back until the client closes; records the total it received.
inline Server::Handler echo_handler() {
    return [](Conn& c, Server& s) {
        std::string all;
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
            if (n <= 0) break;
            all.append(buf, static_cast<std::size_t>(n));
            if (!c.send(std::string(buf, static_cast<std::size_t>(n)))) break;
        }
        s.note(all);
    };
}

/// Reads one HTTP request (head plus a Content-Length or chunked body), records it verbatim and
/// answers 200 with `body` (and closes).
inline Server::Handler http_handler(std::string body, std::string extra_headers = "") {
    return [body, extra_headers](Conn& c, Server& s) {
        std::string req = c.read_head();
        auto head_end = req.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            s.note(req);
            return;
        }
        std::string head = req.substr(0, head_end);
        std::string lower;
        for (char ch : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (auto cl = lower.find("content-length:"); cl != std::string::npos) {
            std::size_t n = std::stoul(head.substr(cl + 15));
            req += c.read_until([&](const std::string& got) { return req.size() + got.size() >= head_end + 4 + n; });
        } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
            req += c.read_until([&](const std::string& got) {
                return (req + got).find("\r\n0\r\n\r\n", head_end) != std::string::npos;
            });
        }
        s.note(req);
        c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
               "Connection: close\r\n\r\n" + body);
    };
}

}  // namespace cordon::test
