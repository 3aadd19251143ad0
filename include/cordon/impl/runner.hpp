// SPDX-License-Identifier: MIT
// cordon: implementation of runner.hpp: capability and preflight checks, the run through a backend.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <utility>
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/bind_check.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/limit_fields.hpp"
#include "cordon/detail/run_as_access.hpp"
#include "cordon/detail/run_registry.hpp"
#include "cordon/detail/trusted_dirs.hpp"
#include "cordon/detail/utf16.hpp"
#include "cordon/enforceable.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/names.hpp"
#include "cordon/path.hpp"
#include "cordon/runner.hpp"

namespace cordon {
namespace detail {

// A backend that cannot limit reads, writes and the network is not a sandbox cordon will drive.
inline Status require_baseline(const Capabilities& c) {
    std::string missing;
    if (!c.read_allowlist) missing += " reads are not limited to granted paths;";
    if (!c.write_allowlist) missing += " writes are not limited to granted paths;";
    if (!c.network_block) missing += " the network cannot be blocked;";
    if (missing.empty()) return {};
    missing.pop_back();
    return make_error(ErrorCode::backend_unsupported,
                      std::string(to_string(c.backend)) + " with executor SDK " + std::string(c.sdk_version) +
                          " does not enforce deny-by-default:" + missing + " (" + std::string(c.source) + ")");
}

// A backend that bind-mounts grants (Capabilities::bind_mounts; bubblewrap) aborts the launch on a
// grant whose source does not exist or a cwd it cannot enter, with an exit code indistinguishable
// from a config error, so cordon refuses such a policy up front with a message naming the path
// (docs/clamp-rules.md: "missing grant sources").
inline Status preflight_bind_mounts(const Policy& p, const std::string& backend) {
    auto check = [&backend](const std::vector<std::string>& paths, std::string_view field) -> Status {
        for (std::size_t i = 0; i < paths.size(); ++i) {
            std::string where = std::string(field) + "/" + std::to_string(i);
            auto parsed = Path::parse(paths[i], PathStyle::posix);
            if (!parsed) return make_error(ErrorCode::invalid_policy, parsed.error().message, where);
            struct stat st {};
            if (::stat(paths[i].c_str(), &st) != 0)
                return make_error(ErrorCode::invalid_policy,
                                  "'" + paths[i] + "' does not exist; " + backend + " cannot bind a missing path "
                                  "(create it first, or grant its existing parent directory)",
                                  where);
        }
        return {};
    };
    if (auto s = check(p.filesystem.readwrite, "/filesystem/readwritePaths"); !s) return s;
    if (auto s = check(p.filesystem.readonly, "/filesystem/readonlyPaths"); !s) return s;
    if (auto s = check(p.filesystem.denied, "/filesystem/deniedPaths"); !s) return s;
    if (p.process.cwd && !p.process.cwd->empty()) {
        auto cwd = Path::parse(*p.process.cwd, PathStyle::posix);
        if (!cwd) return make_error(ErrorCode::invalid_policy, cwd.error().message, "/process/cwd");
        bool granted = false;
        for (const auto* list : {&p.filesystem.readwrite, &p.filesystem.readonly})
            for (const auto& g : *list)
                if (auto root = Path::parse(g, PathStyle::posix); root && within(*cwd, *root)) granted = true;
        if (!granted)
            return make_error(ErrorCode::invalid_policy,
                              "cwd '" + *p.process.cwd + "' is not inside a granted path; " + backend +
                                  " could not enter it",
                              "/process/cwd");
    }
    return {};
}

// A network that is more than closed: egress rules, `default: allow` or a proxy. lxc-exec runs its
// network tools for it (slirp4netns, iptables, ...); a closed one needs none of them.
inline bool needs_network_helpers(const Policy& p) {
    if (!p.network) return false;
    const Egress& e = p.network->egress;
    return e.effective_default() == EgressDefault::allow || !e.allow.empty() || !e.deny.empty() ||
           p.network->proxy.has_value();
}

// The devices those tools open as the sandbox's user (`who`; unset: this process's).
// What needs the network tools, for the refusal's words: granted domains (the proxy's network)
// or egress rules, and its pointer.
inline std::pair<const char*, const char*> network_need(const Policy& p) {
    return p.allowed_domains.empty() ? std::pair{"egress rules", "/network/egress"}
                                     : std::pair{"granted domains (the network to the proxy)", "/network/allowedDomains"};
}

inline Status check_network_devices(std::string_view devices, const std::optional<RunAs>& who,
                                    std::pair<const char*, const char*> need = {"egress rules", "/network/egress"}) {
#if !defined(_WIN32)
    RunAs user = who ? *who : RunAs{static_cast<std::uint32_t>(::geteuid()), static_cast<std::uint32_t>(::getegid())};
    while (!devices.empty()) {
        auto cut = devices.find(' ');
        std::string dev(devices.substr(0, cut));
        devices.remove_prefix(cut == std::string_view::npos ? devices.size() : cut + 1);
        if (dev.empty()) continue;
        if (std::string problem = device_problem(dev, user); !problem.empty())
            return make_error(ErrorCode::backend_unsupported, std::string(need.first) + " need " + problem, need.second);
    }
#else
    (void)devices;
    (void)who;
    (void)need;
#endif
    return {};
}

}  // namespace detail

// The capability row of the contract a prepared policy is emitted with, when it runs network tools.
CORDON_FUNC std::optional<Capabilities> Runner::network_row(const Policy& prepared) const {
    if (!detail::needs_network_helpers(prepared)) return std::nullopt;
    auto contract = contract_for(prepared);
    if (!contract) return std::nullopt;
    auto row = capabilities_for(backend(), executor().sdk_version(), (*contract)->version);
    if (!row || row->network_tools.empty()) return std::nullopt;
    return row;
}

namespace detail {

// Granted domains are reached only through cordon's filtering proxy, and only an executor whose
// firewall makes the proxy the only way out turns a domain list into a boundary.
inline Status check_domains(const Policy& p, const Capabilities& caps, const Contract& contract) {
    if (p.allowed_domains.empty()) return {};
    const std::string where = "/network/allowedDomains";
    if (!caps.proxy_enforced)
        return make_error(ErrorCode::backend_unsupported,
                          std::string(to_string(caps.backend)) + " (SDK " + std::string(caps.sdk_version) + ", contract " +
                              std::string(contract.version) + ") does not make the proxy the only way out (its proxy "
                              "is environment variables a workload can ignore); refusing granted domains",
                          where);
    if (!p.network || !p.network->proxy)
        return make_error(ErrorCode::invalid_policy,
                          "granted domains are reached only through cordon's filtering proxy, and the policy names none "
                          "(network.proxy); cordon run starts it. Refusing rather than running with them unreachable",
                          where);
    const Egress& e = p.network->egress;
    if (e.effective_default() != EgressDefault::deny || !e.allow.empty() || !e.deny.empty())
        return make_error(ErrorCode::invalid_policy,
                          "granted domains need egress default deny and no egress rules (the executor's firewall then "
                          "admits only the proxy's port; lxc-exec refuses a proxy with rules)",
                          "/network/egress");
    return {};
}

}  // namespace detail

CORDON_FUNC Result<const Contract*> Runner::contract_for(const Policy& policy) const {
    return choose_contract(policy, executor().sdk_version());
}

CORDON_FUNC Result<Policy> Runner::prepare(const Policy& policy) const {
    Policy p = policy;
    const Containment own = containment_of(backend());
    if (p.containment && *p.containment != own && *p.containment != Containment::process)
        return make_error(ErrorCode::invalid_policy,
                          "policy asks for containment \"" + std::string(to_string(*p.containment)) +
                              "\" but this runner drives " + std::string(to_string(backend())),
                          "/containment");
    p.containment = own;  // explicit: `process` would let the executor pick by host
    // The contract follows the verified executor, and what is enforced follows the contract.
    auto contract = contract_for(p);
    if (!contract) return contract.error();
    // What the backend's executor needs besides (a cwd, variables it requires), on the typed policy
    // and before any check: what runs is what was checked.
    auto adjusted = state_->loaded.prepare(p, **contract);
    if (!adjusted) return adjusted.error();
    p = std::move(*adjusted);
    auto caps = capabilities_for(backend(), executor().sdk_version(), (*contract)->version);
    if (!caps)
        return make_error(ErrorCode::backend_unsupported,
                          "cordon has no capability data for " + std::string(to_string(backend())) + " with SDK " +
                              std::string(executor().sdk_version()) + " at contract " +
                              std::string((*contract)->version),
                          "/version");
    if (Status s = enforceable(p, *caps, (*contract)->version); !s) return s.error();
    if (Status s = detail::check_domains(p, *caps, **contract); !s) return s.error();
    if (caps->bind_mounts) {
        if (auto s = detail::preflight_bind_mounts(p, std::string(to_string(backend()))); !s) return s.error();
        std::vector<std::string> grants = p.filesystem.readwrite;
        grants.insert(grants.end(), p.filesystem.readonly.begin(), p.filesystem.readonly.end());
        auto check = detail::bind_check_prefix(grants);
        if (!check) return check.error();
        p.process.command_line = *check + p.process.command_line;
    }
    if (!caps->network_tools.empty() && detail::needs_network_helpers(p))
        if (Status s = detail::require_helper_tools(network_tools(), detail::network_need(p).first,
                                                    detail::network_need(p).second);
            !s)
            return s.error();
    return p;
}

CORDON_FUNC Result<std::string> Runner::config_for(const Policy& policy) const {
    auto p = prepare(policy);
    if (!p) return p.error();
    auto contract = contract_for(*p);
    if (!contract) return contract.error();
    return to_mxc_json(*p, **contract);
}

namespace detail {

// The run controls that apply: the policy's (from the ceiling, through clamp), narrowed by the
// options. A different user in the options than the ceiling names is refused rather than
// preferred; when neither names one, default_run_as() (nobody, as root).
inline Result<RunOptions> effective_options(const Policy& policy, const RunOptions& options) {
    RunOptions o = options;
    if (!o.run_as) o.run_as = policy.run_as ? policy.run_as : default_run_as();
    else if (policy.run_as && *policy.run_as != *o.run_as)
        return make_error(ErrorCode::invalid_policy,
                          "RunOptions::run_as names uid " + std::to_string(o.run_as->uid) + " but the policy (its ceiling) "
                              "names uid " + std::to_string(policy.run_as->uid),
                          "run_as");
    for (const LimitField& f : limit_fields) {
        const auto& asked = o.limits.*f.member;
        const auto& set = policy.limits.*f.member;
        if (set && (!asked || *set < *asked)) o.limits.*f.member = set;
    }
    return o;
}

// Another uid runs the sandbox: every grant must be usable by it (else bubblewrap fails to mount,
// or the command fails on its first access, with no word on why).
inline Status check_grants_for(const Policy& p, const std::optional<RunAs>& who) {
#if !defined(_WIN32)
    if (!who || who->uid == ::geteuid()) return {};
    for (std::size_t i = 0; i < p.filesystem.readwrite.size(); ++i)
        if (Status s = check_run_as_access(p.filesystem.readwrite[i], *who, true,
                                           pointer_child("/filesystem/readwritePaths", i));
            !s)
            return s;
    for (std::size_t i = 0; i < p.filesystem.readonly.size(); ++i)
        if (Status s = check_run_as_access(p.filesystem.readonly[i], *who, false,
                                           pointer_child("/filesystem/readonlyPaths", i));
            !s)
            return s;
#else
    (void)p;
    (void)who;
#endif
    return {};
}

}  // namespace detail

// The request the backend gets: the prepared, emitted config, the verified executor and the options.
CORDON_FUNC Result<detail::RunRequest> Runner::request_for(const Policy& prepared, const RunOptions& options) const {
    auto contract = contract_for(prepared);
    if (!contract) return contract.error();
    auto config = to_mxc_json(prepared, **contract);
    if (!config) return config.error();
    detail::RunRequest request;
    request.config_json = std::move(*config);
#if defined(_WIN32)
    // The handle's final path, as UTF-8 (path::string() would be the ANSI code page). The state
    // keeps the handle, and with it the write/delete lock, open until after the launch.
    const std::wstring wide = executor().launch_path().wstring();
    auto utf8 = detail::utf16_to_utf8(std::u16string(wide.begin(), wide.end()));
    if (!utf8) return make_error(ErrorCode::execution_failed, "executor path is not valid UTF-16");
    request.executor_path = std::move(*utf8);
#else
    request.executor_path = executor().path().string();
    request.executor_fd = executor().fd();
#endif
    request.sdk_version = std::string(executor().sdk_version());
    // Our own clock backs up the executor's: a little later, so a working executor reports first.
    std::uint32_t t = prepared.process.timeout.wire_value();
    request.timeout_ms = t == 0 ? 0 : (t > UINT32_MAX - timeout_slack_ms ? UINT32_MAX : t + timeout_slack_ms);
    request.options = options;
    return request;
}

CORDON_FUNC Result<RunResult> Runner::run(const Policy& policy, const RunOptions& options) const {
    auto effective = detail::effective_options(policy, options);
    if (!effective) return effective.error();
    // Run options the backend's runner would ignore are refused (its Capabilities say which).
    const std::string backend_name(to_string(backend()));
    if (options.cancel_fd >= 0 && !capabilities().cancellation)
        return make_error(ErrorCode::backend_unsupported,
                          "the " + backend_name + " backend cannot cancel a run yet; refusing a cancellable run "
                              "rather than ignoring the cancellation",
                          "cancel_fd");
    if (!capabilities().process_controls &&
        (effective->stdin_mode != StdinMode::null || effective->stdout_fd >= 0 || effective->stderr_fd >= 0 ||
         effective->run_as || !effective->limits.empty()))
        return make_error(ErrorCode::backend_unsupported,
                          "the " + backend_name + " backend has no stdin, streaming, run_as or limits yet; refusing "
                              "rather than ignoring them",
                          "options");
    auto prepared = prepare(policy);
    if (!prepared) return prepared.error();
    if (Status s = detail::check_grants_for(*prepared, effective->run_as); !s) return s.error();
    if (auto row = effective->dry_run ? std::nullopt : network_row(*prepared))  // a dry run opens no device
        if (Status s = detail::check_network_devices(row->network_devices, effective->run_as, detail::network_need(*prepared)); !s)
            return s.error();
    auto request = request_for(*prepared, *effective);
    if (!request) return request.error();
    detail::RunRegistration registration;  // held until the run is over
    if (!effective->dry_run) {
        auto registered = detail::register_run(*prepared, detail::run_registry_dir());
        if (!registered) return registered.error();
        registration = std::move(*registered);
    }
    auto result = state_->loaded.run(*request);
    if (!result) return result;
    detail::classify_bind_check(*result);
    result->config = std::move(request->config_json);
    return result;
}

CORDON_FUNC std::vector<TrustAnchor> Runner::trust_anchors() const {
    std::vector<TrustAnchor> out{{executor().real_path().parent_path().string(), "the executor's directory"}};
    auto add = [&out](std::string dir, const char* what) {
        for (const TrustAnchor& a : out)
            if (a.path == dir) return;
        out.push_back({std::move(dir), what});
    };
    for (std::string& dir : detail::trusted_helper_dirs(capabilities().helper_dirs))
        add(std::move(dir), "a directory the executor runs helper programs from");
    for (const detail::HelperTool& tool : network_tools())
        for (const std::string& dir : tool.dirs) add(dir, "a directory a network helper program comes through");
    return out;
}

CORDON_FUNC Result<Runner> make_runner(const RunnerOptions& options) {
    try {
        const Backend backend = options.backend.value_or(host_backend());
        if (backend == Backend::session)
            return make_error(ErrorCode::unavailable, "no runner is registered for the session backend (Phase 2)",
                              "session");
        if (backend_os(backend) != host_os())
            return make_error(ErrorCode::unavailable, "the " + std::string(to_string(backend)) + " backend runs on " +
                                                          std::string(backend_os(backend)) + ", not on " +
                                                          std::string(host_os()));
        ExecutorSpec spec = options.executor;
        spec.os = std::string(backend_os(backend));
        auto executor = open_trusted_executor(spec, &options.verification_cache);
        if (!executor) return executor.error();
        BackendRegistry empty;
        const BackendRegistry& registry = options.registry ? *options.registry : empty;
        auto loaded = registry.load(backend, options.plugin_dir);
        if (!loaded) return loaded.error();
        auto caps = loaded->capabilities(executor->sdk_version());
        if (!caps) return caps.error();
        if (auto s = detail::require_baseline(*caps); !s) return s.error();
        auto tools = detail::find_helper_tools(detail::trusted_helper_dirs(caps->helper_dirs), caps->network_tools);
        auto state = std::make_shared<detail::RunnerState>(
            detail::RunnerState{backend, std::move(*loaded), std::move(*executor), *caps, std::move(tools)});
        return Runner(std::move(state));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("make_runner: ") + e.what());
    }
}

}  // namespace cordon
