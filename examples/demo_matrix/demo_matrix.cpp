// SPDX-License-Identifier: MIT
// The demo matrix: an operator ceiling from CORDON_* variables over a fresh Documents folder and a
// scratch folder, five requests an agent might make, and (POSIX, as root) two egress requests and
// two domain requests in a throwaway network namespace, each run in the real sandbox and each verdict proven afterwards by
// the file system or a listener, not by exit codes.
//
//   demo_matrix [--plugin-dir DIR] [--executor PATH]
//
// Linux: bubblewrap via lxc-exec. macOS: Seatbelt via mxc-exec-mac. Windows: ProcessContainer via
// wxc-exec.exe; it compiles there but only a real Windows machine can run it (wine has no
// AppContainer, so the executor fails closed).
#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
using socket_t = SOCKET;
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
using socket_t = int;
#endif

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/egress_flag.hpp"
#include "cordon/runner.hpp"
#if !defined(_WIN32)
#include "cordon/filtering_proxy.hpp"
#endif

namespace fs = std::filesystem;
using namespace cordon;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

void set_env(const std::string& name, const std::string& value) {
#if defined(_WIN32)
    ::_putenv_s(name.c_str(), value.c_str());
#else
    ::setenv(name.c_str(), value.c_str(), 1);
#endif
}

// A listener on the host's loopback (or another of its addresses): if anything inside the sandbox
// reaches it, it shows up here as an accepted connection.
class LoopbackListener {
public:
    explicit LoopbackListener(std::uint32_t address = INADDR_LOOPBACK) {
#if defined(_WIN32)
        WSADATA wsa;
        ::WSAStartup(MAKEWORD(2, 2), &wsa);
#endif
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(address);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 4);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~LoopbackListener() {
#if defined(_WIN32)
        ::closesocket(fd_);
        ::WSACleanup();
#else
        ::close(fd_);
#endif
    }
    int port() const { return port_; }
    /// Whether a connection is waiting to be accepted.
    bool knocked() const {
#if defined(_WIN32)
        WSAPOLLFD p{fd_, POLLRDNORM, 0};
        return ::WSAPoll(&p, 1, 300) > 0;
#else
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 300) > 0;
#endif
    }

private:
    socket_t fd_;
    int port_ = 0;
};

// cordon never runs the sandbox as root (it would hold host root's capabilities). Started as root,
// the demo runs it as `nobody` and gives that user the demo's folders, so that only the sandbox,
// not file ownership, decides each verdict.
std::optional<RunAs> unprivileged_user_for(const fs::path& tree) {
#if defined(_WIN32)
    (void)tree;
    return std::nullopt;
#else
    if (::geteuid() != 0) return std::nullopt;
    const passwd* pw = ::getpwnam("nobody");
    if (!pw) throw std::runtime_error("running as root needs an unprivileged user to run the sandbox as; no 'nobody' here");
    RunAs as{pw->pw_uid, pw->pw_gid};
    for (const auto& entry : fs::recursive_directory_iterator(tree))
        if (::lchown(entry.path().c_str(), as.uid, as.gid) != 0) throw std::runtime_error("cannot chown " + entry.path().string());
    if (::lchown(tree.c_str(), as.uid, as.gid) != 0) throw std::runtime_error("cannot chown " + tree.string());
    std::cout << "running the sandbox as nobody (uid " << as.uid << "): cordon never runs it as root\n";
    return as;
#endif
}

struct Row {
    Row(std::string what, bool expected) : action(std::move(what)), expect_allowed(expected) {}
    std::string action;
    bool expect_allowed;
    bool allowed = false;
    std::string proof;
};

// The commands the agent runs, per backend: `sh -c` on POSIX executors, cmd/PowerShell on Windows.
struct Commands {
    std::string write_documents, read_documents, write_scratch, read_outside, network;
};

Commands commands_for(Backend backend, const fs::path& docs, const fs::path& scratch, const fs::path& outside,
                      int port) {
    const std::string notes = (docs / "notes.txt").string(), secret = (outside / "secret.txt").string();
    if (backend == Backend::processcontainer) {
        return {"cmd /c \"echo tampered> \"" + notes + "\"\"",
                "cmd /c \"type \"" + notes + "\" > \"" + (scratch / "read-proof.txt").string() + "\"\"",
                "cmd /c \"echo written> \"" + (scratch / "written.txt").string() + "\"\"",
                "cmd /c \"type \"" + secret + "\" > \"" + (scratch / "leak.txt").string() + "\"\"",
                "powershell -NoProfile -Command \"(New-Object Net.Sockets.TcpClient).Connect('127.0.0.1'," +
                    std::to_string(port) + "); 'connected' | Out-File '" + (scratch / "net.txt").string() + "'\""};
    }
    return {"echo tampered > '" + notes + "'",
            "cat '" + notes + "' > '" + (scratch / "read-proof.txt").string() + "'",
            "echo written > '" + (scratch / "written.txt").string() + "'",
            "cat '" + secret + "' > '" + (scratch / "leak.txt").string() + "'",
            // bash's /dev/tcp: no network tool needed inside the sandbox
            "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "' && echo connected > '" +
                (scratch / "net.txt").string() + "'"};
}

#if !defined(_WIN32)
// Runs a program (no shell) and tells whether it exited 0.
bool run_program(std::vector<std::string> argv) {
    pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// This process's own throwaway network (and mount) namespace: only lo, with the documentation
// address 198.51.100.7 on it, so nothing the sandbox does can leave the machine. slirp4netns opens
// /dev/net/tun as the sandbox's user: where the host left it 0600 (no udev), a 0666 node for the
// same device is bound over it in this mount namespace only. Root only.
std::optional<std::string> enter_lab(const fs::path& scratch_root) {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return std::string("unshare: ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return std::string("mount --make-rprivate /");
    if (!run_program({"ip", "link", "set", "lo", "up"}) || !run_program({"ip", "addr", "add", "198.51.100.7/32", "dev", "lo"}))
        return std::string("ip could not set up lo (iproute2)");
    struct stat st {};
    if (::stat("/dev/net/tun", &st) == 0 && (st.st_mode & 006) != 006) {
        const fs::path dev = scratch_root / "lab-dev";
        fs::create_directories(dev);
        if (::mount("cordon-demo", dev.c_str(), "tmpfs", 0, "mode=0755") != 0 ||
            ::mknod((dev / "tun").c_str(), S_IFCHR | 0666, makedev(10, 200)) != 0 || ::chmod((dev / "tun").c_str(), 0666) != 0 ||
            ::mount((dev / "tun").c_str(), "/dev/net/tun", nullptr, MS_BIND, nullptr) != 0)
            return std::string("could not give the sandbox's user /dev/net/tun");
        std::cout << "  (this host's /dev/net/tun is 0600; the demo's namespace binds a 0666 node for it, as\n"
                     "   distributions ship it)\n";
    }
    return std::nullopt;
}

// Runs `probe` in a child process inside its own lab namespace (enter_lab) and returns what it
// found, one character per row ('y', 'n', or '?' where it failed, with the reason on stderr);
// nullopt when this is not root, which a throwaway network namespace needs.
template <class Probe>
std::optional<std::string> verdicts_in_lab(const fs::path& root, std::size_t rows, const char* what, Probe probe) {
    int result[2];
    if (::geteuid() != 0 || ::pipe(result) != 0) return std::nullopt;
    std::cout.flush();  // or the child would print our buffered lines again
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(result[0]);
        std::string verdict(rows, '?');
        try {
            if (auto problem = enter_lab(root)) throw std::runtime_error(*problem);
            verdict = probe();
        } catch (const std::exception& e) {
            std::cerr << "demo_matrix: " << what << ": " << e.what() << "\n";
        }
        verdict.resize(rows, '?');
        (void)!::write(result[1], verdict.data(), rows);
        std::cout.flush();
        ::_exit(0);
    }
    ::close(result[1]);
    std::string verdict(rows, '?');
    (void)!::read(result[0], verdict.data(), rows);
    ::close(result[0]);
    if (pid > 0) ::waitpid(pid, nullptr, 0);
    return verdict;
}

std::vector<Row> not_run(std::vector<Row> rows) {
    for (Row& r : rows) r.proof = "not run: a throwaway network namespace needs root";
    return rows;
}

char seen(bool knocked) { return knocked ? 'y' : 'n'; }

// The egress rows, in a child process inside its own lab namespace: the ceiling allows tcp to
// 198.51.100.7 on one port, the agent asks for that port and another; each listener says what reached it.
std::vector<Row> egress_rows(const Runner& runner, const RunOptions& run_options, const fs::path& root) {
    std::vector<Row> rows{{"egress to the allowed port", true}, {"egress to another port", false}};
    auto verdict = verdicts_in_lab(root, 2, "egress rows", [&]() -> std::string {
        const std::uint32_t lab = 0xC6336407;  // 198.51.100.7
        LoopbackListener allowed(lab), other(lab);
        const std::string a = std::to_string(allowed.port()), b = std::to_string(other.port());
        set_env("CORDON_EGRESS_ALLOW", "198.51.100.7/32:" + a + "/tcp");  // the operator names the address
        auto ceiling = ceiling_from_env("CORDON_");
        if (!ceiling) throw std::runtime_error(ceiling.error().to_string());
        Policy request;
        request.process.command_line = "for p in " + a + " " + b +
                                       "; do timeout 3 bash -c \"echo hello > /dev/tcp/198.51.100.7/$p\"; done; true";
        request.network = NetworkSpec{};
        for (const std::string& port : {a, b})
            request.network->egress.allow.push_back(parse_egress_flag("198.51.100.7:" + port + "/tcp", "request").value());
        auto clamped = clamp(request, *ceiling, runner.capabilities());
        if (!clamped) throw std::runtime_error(clamped.error().to_string());
        auto ran = runner.run(clamped->policy, run_options);
        if (!ran) throw std::runtime_error(ran.error().to_string());
        return {seen(allowed.knocked()), seen(other.knocked())};
    });
    if (!verdict) return not_run(std::move(rows));
    rows[0].allowed = (*verdict)[0] == 'y';
    rows[1].allowed = (*verdict)[1] != 'n';
    rows[0].proof = rows[0].allowed ? "listener on 198.51.100.7 (lab netns) got the connection"
                                    : "the allowed port's listener saw nothing";
    rows[1].proof = (*verdict)[1] == 'n' ? "the other port's listener saw nothing (not in the ceiling)"
                                         : "the other port's listener was reached";
    return rows;
}

// The domain rows, in a child process inside its own lab namespace: the ceiling allows the name
// allowed.demo, the agent asks for it and for denied.demo (both 198.51.100.7, in a hosts file the
// proxy is pointed at). The sandbox reaches only cordon's filtering proxy (runtimeConfig.networkProxy,
// egress deny); its CONNECTs go through it, and each name's listener says what reached it. The proxy
// runs in this process here (FilteringProxy); `cordon run --domain` starts it as cordon-proxy.
std::vector<Row> domain_rows(const Runner& runner, const RunOptions& run_options, const fs::path& root) {
    std::vector<Row> rows{{"domain in the ceiling", true}, {"domain outside it", false}};
    auto verdict = verdicts_in_lab(root, 3, "domain rows", [&]() -> std::string {
        LoopbackListener allowed(0xC6336407), other(0xC6336407);  // 198.51.100.7
        const fs::path hosts = root / "demo-hosts";
        write_file(hosts, "198.51.100.7 allowed.demo denied.demo\n");
        set_env("CORDON_ALLOWED_DOMAINS", "allowed.demo");
        auto ceiling = ceiling_from_env("CORDON_");
        if (!ceiling) throw std::runtime_error(ceiling.error().to_string());
        Policy request;
        request.process.command_line = "true";
        request.allowed_domains = {"allowed.demo", "denied.demo"};
        auto clamped = clamp(request, *ceiling, runner.capabilities());
        if (!clamped) throw std::runtime_error(clamped.error().to_string());
        ProxyConfig config;
        config.allowed = parse_domain_patterns(clamped->policy.allowed_domains).value();
        config.resolver = ProxyResolver::hosts_file;
        config.hosts_file = hosts.string();
        config.allowed_internal = {"198.51.100.7/32"};  // the lab's address is this namespace's own: named
        auto proxy = FilteringProxy::start(config);
        if (!proxy) throw std::runtime_error(proxy.error().to_string());
        Policy& p = clamped->policy;
        p.network = NetworkSpec{};
        p.network->proxy = ProxyUrl{(*proxy)->url()};
        p.network->egress.default_action = EgressDefault::deny;
        // bash's /dev/tcp to the proxy (slirp's 10.0.2.2 for the host): a CONNECT per name.
        std::string script;
        for (auto [name, port] : {std::pair{"allowed.demo", allowed.port()}, std::pair{"denied.demo", other.port()}})
            script += "exec 3<>/dev/tcp/10.0.2.2/" + std::to_string((*proxy)->port()) + " && printf \"CONNECT " + name +
                      ":" + std::to_string(port) + " HTTP/1.1\\r\\n\\r\\n\" >&3 && timeout 3 head -c 12 <&3; echo; ";
        p.process.command_line = "bash -c '" + script + "'";
        auto ran = runner.run(p, run_options);
        if (!ran) throw std::runtime_error(ran.error().to_string());
        return {seen(allowed.knocked()), seen(other.knocked()), seen(ran->out.find("HTTP/1.1 403") != std::string::npos)};
    });
    if (!verdict) return not_run(std::move(rows));
    rows[0].allowed = (*verdict)[0] == 'y';
    rows[1].allowed = (*verdict)[1] != 'n' || (*verdict)[2] != 'y';
    rows[0].proof = rows[0].allowed ? "allowed.demo's listener got the tunnel through cordon's proxy"
                                    : "allowed.demo's listener saw nothing";
    rows[1].proof = !rows[1].allowed ? "cordon's proxy answered 403; denied.demo's listener saw nothing"
                                     : "denied.demo's listener was reached (or no 403)";
    return rows;
}
#endif

// The runner's options from the command line; nothing when it is not understood.
std::optional<RunnerOptions> parse_args(int argc, char** argv) {
    RunnerOptions runner_options;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--plugin-dir" && i + 1 < argc) runner_options.plugin_dir = argv[++i];
        else if (a == "--executor" && i + 1 < argc) runner_options.executor.explicit_path = argv[++i];
        else return std::nullopt;
    }
    return runner_options;
}

// A fresh Documents-like folder, a scratch (temp) folder, and something outside the ceiling.
struct DemoTree {
    fs::path root, docs, scratch, outside;
    const std::string notes_text = "Meeting notes: ship cordon on Friday.\n";
    const std::string secret_text = "api-key=sk-demo-outside-the-ceiling\n";

    DemoTree() {
        std::mt19937_64 rng(std::random_device{}());
        root = fs::canonical(fs::temp_directory_path()) / ("cordon-demo-" + std::to_string(rng() % 1000000));
        docs = root / "Documents", scratch = root / "scratch", outside = root / "outside";
        for (const auto& d : {docs, scratch, outside}) fs::create_directories(d);
        write_file(docs / "notes.txt", notes_text);
        write_file(outside / "secret.txt", secret_text);
    }
};

// The five filesystem and loopback rows: each runs one command through `run` and proves its
// verdict on the host.
template <class RunFn>
std::vector<Row> filesystem_rows(RunFn&& run, const DemoTree& t, const Commands& cmd, LoopbackListener& listener) {
    std::vector<Row> rows;
    {
        Row r{"write to Documents", false};
        run(cmd.write_documents);
        std::string now = read_file(t.docs / "notes.txt");
        r.allowed = now != t.notes_text;
        r.proof = r.allowed ? "notes.txt was overwritten" : "notes.txt unchanged (" + std::to_string(now.size()) + " bytes)";
        rows.push_back(r);
    }
    {
        Row r{"read from Documents", true};
        run(cmd.read_documents);
        r.allowed = fs::exists(t.scratch / "read-proof.txt") && read_file(t.scratch / "read-proof.txt") == t.notes_text;
        r.proof = r.allowed ? "scratch/read-proof.txt equals notes.txt" : "no copy of notes.txt was made";
        rows.push_back(r);
    }
    {
        Row r{"write to scratch (temp)", true};
        run(cmd.write_scratch);
        r.allowed = fs::exists(t.scratch / "written.txt");
        r.proof = r.allowed ? "scratch/written.txt exists on the host" : "scratch/written.txt missing";
        rows.push_back(r);
    }
    {
        Row r{"read outside the ceiling", false};
        run(cmd.read_outside);
        bool leaked = fs::exists(t.scratch / "leak.txt") &&
                      read_file(t.scratch / "leak.txt").find("sk-demo") != std::string::npos;
        r.allowed = leaked;
        r.proof = leaked ? "secret.txt was copied out" : "scratch/leak.txt holds no byte of secret.txt";
        rows.push_back(r);
    }
    {
        Row r{"network to the host", false};
        run(cmd.network);
        bool knocked = listener.knocked();
        r.allowed = knocked || fs::exists(t.scratch / "net.txt");
        r.proof = r.allowed ? "the loopback listener saw a connection"
                            : "loopback listener on port " + std::to_string(listener.port()) + " saw nothing";
        rows.push_back(r);
    }
    return rows;
}

// The matrix as the README shows it; true when every verdict that ran is as expected.
bool print_matrix(const Runner& runner, const DemoTree& t, const std::vector<Row>& rows) {
    const auto& exe = runner.executor();
    std::cout << "cordon demo matrix: backend " << to_string(runner.backend()) << ", executor "
              << exe.path().filename().string() << " (SDK " << exe.sdk_version() << ", sha256 "
              << exe.sha256().substr(0, 16) << "..., verified)\n"
              << "ceiling: CORDON_READONLY_PATHS=" << t.docs.string() << "\n"
              << "         CORDON_READWRITE_PATHS=" << t.scratch.string() << "\n"
              << "         CORDON_NETWORK=block\n"
#if !defined(_WIN32)
              << "         CORDON_EGRESS_ALLOW=198.51.100.7/32:PORT/tcp (egress rows: the agent also asks another port)\n"
              << "         CORDON_ALLOWED_DOMAINS=allowed.demo (domain rows: the agent also asks denied.demo)\n"
#endif
              << "\n";
    std::cout << "  action                     expected  observed  proof\n";
    bool all_as_expected = true;
    std::size_t skipped = 0;
    for (const auto& r : rows) {
        auto verdict = [](bool allowed) { return allowed ? std::string("ALLOWED") : std::string("BLOCKED"); };
        if (r.proof.rfind("not run", 0) == 0) {
            ++skipped;
            std::cout << "  " << r.action << std::string(27 - std::min<std::size_t>(27, r.action.size()), ' ')
                      << verdict(r.expect_allowed) << "   -         " << r.proof << "\n";
            continue;
        }
        bool ok = r.allowed == r.expect_allowed;
        all_as_expected = all_as_expected && ok;
        std::string action = r.action + std::string(27 - std::min<std::size_t>(27, r.action.size()), ' ');
        std::cout << "  " << action << verdict(r.expect_allowed) << "   " << verdict(r.allowed) << "   "
                  << r.proof << (ok ? "" : "   <-- UNEXPECTED") << "\n";
    }
    const std::string checked = std::to_string(rows.size() - skipped);
    std::cout << "\n" << (all_as_expected ? "all " + checked + " verdicts as expected" : std::string("SOME VERDICTS UNEXPECTED"))
              << "\n";
    return all_as_expected;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        auto runner_options = parse_args(argc, argv);
        if (!runner_options) {
            std::cerr << "usage: demo_matrix [--plugin-dir DIR] [--executor PATH]\n";
            return 2;
        }
#if defined(_WIN32)
        std::cout << "note: on Windows the demo needs a real Windows machine (AppContainer); under wine the\n"
                     "      executor fails closed and nothing runs.\n";
#endif
        auto runner = make_runner(*runner_options);
        if (!runner) {
            std::cerr << "demo_matrix: " << to_string(runner.error().code) << ": " << runner.error().to_string() << "\n";
            return 3;
        }
        const DemoTree t;
        RunOptions run_options;
        run_options.run_as = unprivileged_user_for(t.root);

        // The operator's ceiling, as an embedding agent host would set it (one path each, so no list
        // separator is involved: ';' on Windows, ':' elsewhere).
        set_env("CORDON_READONLY_PATHS", t.docs.string());
        set_env("CORDON_READWRITE_PATHS", t.scratch.string());
        set_env("CORDON_TIMEOUT_MS", "20000");
        set_env("CORDON_NETWORK", "block");
        auto ceiling = ceiling_from_env("CORDON_");
        if (!ceiling) {
            std::cerr << "demo_matrix: " << ceiling.error().to_string() << "\n";
            return 3;
        }

        LoopbackListener listener;
        const Commands cmd = commands_for(runner->backend(), t.docs, t.scratch, t.outside, listener.port());
        ClampOptions clamp_options;
        clamp_options.executor_dir = runner->executor().path().parent_path().string();

        // The agent asks for Documents read-only, scratch read-write, and (greedily) the outside folder
        // and the network too; the ceiling decides.
        auto run = [&](const std::string& command_line) -> RunResult {
            Policy request;
            request.process.command_line = command_line;
            request.process.cwd = t.scratch.string();
            request.filesystem.readonly = {t.docs.string(), t.outside.string()};
            request.filesystem.readwrite = {t.scratch.string()};
            request.network = NetworkSpec{};
            request.network->egress.default_action = EgressDefault::allow;
            auto clamped = clamp(request, *ceiling, runner->capabilities(), clamp_options);
            if (!clamped) throw std::runtime_error(clamped.error().to_string());
            auto result = runner->run(clamped->policy, run_options);
            if (!result) throw std::runtime_error(result.error().to_string());
            return *result;
        };

        std::vector<Row> rows = filesystem_rows(run, t, cmd, listener);
#if !defined(_WIN32)
        for (Row& r : egress_rows(*runner, run_options, t.root)) rows.push_back(r);
        for (Row& r : domain_rows(*runner, run_options, t.root)) rows.push_back(r);
#endif
        const bool all_as_expected = print_matrix(*runner, t, rows);
        fs::remove_all(t.root);
        return all_as_expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "demo_matrix: " << e.what() << "\n";
        return 1;
    }
}
