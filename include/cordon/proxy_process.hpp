// SPDX-License-Identifier: MIT
// cordon: runs the filtering proxy as its own, less privileged process (cordon-proxy) for one run; API of the cordon_proxy library.
#pragma once

// Why a process: cordon may run as root, and the proxy parses untrusted bytes from the workload.
// The parent binds the loopback port (so the port is known before the executor starts), then the
// child takes over the listening socket, drops to an unprivileged user, and serves. See
// docs/network-proxy.md ("Privilege").

#include <cstdint>
#include <string>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/filtering_proxy.hpp"

namespace cordon {

struct ProxyProcessOptions {
    std::string executable;          ///< path of cordon-proxy
    std::string user = "nobody";     ///< the account the proxy serves as when started by root
    std::uint32_t stop_grace_ms = 2000;  ///< after the stop request: then SIGKILL
};

/// A running cordon-proxy child. Move-only; destruction stops it.
class ProxyProcess {
public:
    /// Binds 127.0.0.1:config.listen_port, starts `options.executable` with the listening socket,
    /// the configuration (through a pipe, never argv) and a private decisions file, and waits until
    /// it reports that it serves. Errors: invalid_policy (config), io_error, execution_failed.
    static Result<ProxyProcess> spawn(const ProxyConfig& config, const ProxyProcessOptions& options);

    ProxyProcess(ProxyProcess&& other) noexcept;
    ProxyProcess& operator=(ProxyProcess&& other) noexcept;
    ProxyProcess(const ProxyProcess&) = delete;
    ProxyProcess& operator=(const ProxyProcess&) = delete;
    ~ProxyProcess();

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int pid() const noexcept { return pid_; }

    /// Asks the proxy to stop (it ends every connection), waits for it (SIGKILL after the grace
    /// period) and returns every decision it recorded. Errors: execution_failed (it did not exit
    /// cleanly; the decisions read so far are lost to the caller), io_error.
    Result<std::vector<ProxyDecision>> stop();

private:
    ProxyProcess() = default;
    void kill_now() noexcept;

    int pid_ = -1;
    int stop_fd_ = -1;       // closing it is the stop request
    int decisions_fd_ = -1;  // an unlinked file the child appends JSON lines to
    std::uint16_t port_ = 0;
    std::uint32_t grace_ms_ = 2000;
};

/// The cordon-proxy program (proxy/main.cpp calls it). Modes:
///   cordon-proxy --listen-fd N --config-fd N --decisions-fd N --stop-fd N [--user NAME]
///   cordon-proxy --config FILE [--decisions FILE] [--user NAME]   (foreground; prints its URL; stops on SIGINT/SIGTERM)
int proxy_program_main(int argc, char** argv);

}  // namespace cordon
