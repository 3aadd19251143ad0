// SPDX-License-Identifier: MIT
// cordon-proxy as a child process: it serves on the socket the parent bound, as an unprivileged user
// with only its descriptors, reports its decisions, and stops with the run (or when the parent dies).
#include "cordon/proxy_process.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>

#include "loopback_peers.hpp"
#include "support/process_gone.hpp"
#include "support/temp_tree.hpp"

using namespace cordon;
using cordon::test::Conn;
using cordon::test::Server;

namespace {

std::string exe() {
    const char* e = std::getenv("CORDON_PROXY_EXE");
    REQUIRE_MESSAGE(e != nullptr, "CORDON_PROXY_EXE is not set (meson test sets it)");
    return e;
}

std::string proc_status(int pid, const std::string& key) {
    std::istringstream in(test::read_proc_file("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
    return "";
}

// The proxy serves as "nobody", which must be able to read the hosts file.
struct Setup {
    test::TempTree tmp;
    ProxyConfig config;
    Setup() {
        ::chmod(tmp.root().c_str(), 0755);
        tmp.file("hosts", "127.0.0.1 pkg.test\n");
        ::chmod(tmp.path("hosts").c_str(), 0644);
        config.resolver = ProxyResolver::hosts_file;
        config.hosts_file = tmp.path("hosts");
        config.allowed_internal = {"127.0.0.1/32"};
        config.allowed = *parse_domain_patterns({"pkg.test"});
    }
};

}  // namespace

TEST_CASE("cordon-proxy serves a run as an unprivileged child and hands back its decisions") {
    Setup s;
    Server echo("127.0.0.1", test::echo_handler());
    auto p = ProxyProcess::spawn(s.config, ProxyProcessOptions{exe()});
    REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().to_string()));
    CHECK(p->url() == "http://127.0.0.1:" + std::to_string(p->port()));
#if defined(__linux__)
    CHECK(proc_status(p->pid(), "NoNewPrivs").find('1') != std::string::npos);
    if (::geteuid() == 0) {
        CHECK(proc_status(p->pid(), "Uid").find("65534\t65534\t65534\t65534") != std::string::npos);
        CHECK(proc_status(p->pid(), "Groups").find_first_not_of(" \t") == std::string::npos);  // no supplementary groups
        CHECK(proc_status(p->pid(), "CapEff").find("0000000000000000") != std::string::npos);
        // Beyond stdio: the listening socket (3), the decisions file (5), the stop pipe (6) and what
        // Asio opened itself (epoll, eventfd, timerfd); the config and status pipes are closed.
        for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(p->pid()) + "/fd")) {
            int fd = std::stoi(e.path().filename().string());
            std::error_code gone;  // a descriptor the proxy closed since the listing (a file it read) held nothing
            std::string target = std::filesystem::read_symlink(e.path(), gone).string();
            if (gone) continue;
            INFO("fd " << fd << " -> " << target);
            if (fd < 3) continue;
            if (fd == 3) CHECK(target.rfind("socket:", 0) == 0);
            else if (fd == 5) CHECK(target.find("(deleted)") != std::string::npos);
            else if (fd == 6) CHECK(target.rfind("pipe:", 0) == 0);
            else CHECK(target.rfind("anon_inode:", 0) == 0);
        }
    } else {
        MESSAGE("not root: the privilege drop is not exercised");
    }
#endif
    {
        Conn c = Conn::to("127.0.0.1", p->port());
        REQUIRE(c.ok());
        c.send("CONNECT pkg.test:" + std::to_string(echo.port()) + " HTTP/1.1\r\n\r\n");
        CHECK(c.read_head().rfind("HTTP/1.1 200", 0) == 0);
        c.send("through the child");
        CHECK(c.read_n(17) == "through the child");
    }
    Conn denied = Conn::to("127.0.0.1", p->port());
    denied.send("CONNECT evil.test:443 HTTP/1.1\r\n\r\n");
    CHECK(denied.read_all().rfind("HTTP/1.1 403", 0) == 0);
    int pid = p->pid();
    auto d = p->stop();
    REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().to_string()));
    CHECK(test::gone(pid));
    REQUIRE(d->size() == 2);
    const ProxyDecision* tunnel = nullptr;
    const ProxyDecision* refusal = nullptr;
    for (const auto& x : *d) (x.allowed ? tunnel : refusal) = &x;
    REQUIRE(tunnel != nullptr);
    REQUIRE(refusal != nullptr);
    CHECK(tunnel->host == "pkg.test");
    CHECK(tunnel->bytes_up == 17);
    CHECK(refusal->host == "evil.test");
    CHECK(refusal->status == 403);
}

TEST_CASE("cordon-proxy refuses to start on a bad configuration and says why") {
    Setup s;
    s.config.hosts_file = s.tmp.path("missing-hosts");
    auto p = ProxyProcess::spawn(s.config, ProxyProcessOptions{exe()});
    REQUIRE(!p);
    CHECK(p.error().code == ErrorCode::execution_failed);
    CHECK(p.error().message.find("cannot read the hosts file") != std::string::npos);
    auto missing = ProxyProcess::spawn(s.config, ProxyProcessOptions{s.tmp.path("no-such-proxy")});
    REQUIRE(!missing);
    CHECK(missing.error().message.find("cannot start") != std::string::npos);
    if (::geteuid() == 0) {
        Setup t;
        auto root = ProxyProcess::spawn(t.config, ProxyProcessOptions{exe(), "root"});
        REQUIRE(!root);
        CHECK(root.error().message.find("refusing to serve as root") != std::string::npos);
    }
}

#if defined(__linux__)
TEST_CASE("cordon-proxy ends when the process that started it dies") {
    Setup s;
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t helper = ::fork();
    REQUIRE(helper >= 0);
    if (helper == 0) {
        auto p = ProxyProcess::spawn(s.config, ProxyProcessOptions{exe()});
        int pid = p ? p->pid() : -1;
        (void)!::write(pipefd[1], &pid, sizeof pid);
        ::_exit(0);  // no stop, no destructor: the parent is simply gone
    }
    ::close(pipefd[1]);
    int proxy_pid = -1;
    REQUIRE(::read(pipefd[0], &proxy_pid, sizeof proxy_pid) == static_cast<ssize_t>(sizeof proxy_pid));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(helper, &status, 0);
    REQUIRE(proxy_pid > 0);
    CHECK(test::becomes_gone(proxy_pid));
}
#endif
