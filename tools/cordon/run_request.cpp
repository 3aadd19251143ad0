// SPDX-License-Identifier: MIT
// cordon run: the command line's request, relative paths against the caller's directory, the
// default cwd, and one line per item the clamp narrowed.
#include "run_request.hpp"

#include <filesystem>
#include <system_error>

#include "cordon/detail/npm_prefix.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/egress_flag.hpp"
#include "cordon/names.hpp"
#include "cordon/path.hpp"
#include "cordon/posix_command_line.hpp"
#include "cordon/windows_command_line.hpp"

namespace cordon::cli {

namespace {

namespace fs = std::filesystem;

std::string utf8(const fs::path& p) {
#if defined(_WIN32)
    auto u8 = p.u8string();
    return std::string(u8.begin(), u8.end());
#else
    return p.string();
#endif
}

// A path typed on the command line, made absolute against the working directory. `~` is left to
// the clamp (which expands it); an empty one is left to the clamp's error.
std::string absolute_cli_path(const std::string& typed) {
    if (typed.empty() || typed.front() == '~') return typed;
    fs::path p = detail::path_from_utf8(typed);
    if (p.is_absolute()) return typed;
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) return typed;  // no working directory: the clamp refuses the relative path, and says so
    std::string s = utf8(abs.lexically_normal());
    while (s.size() > 1 && (s.back() == '/' || s.back() == '\\') && s[s.size() - 2] != ':') s.pop_back();
    return s;
}

std::string pointer(const char* array, std::size_t index) { return std::string(array) + "/" + std::to_string(index); }

// The option as typed, and what it became when that differs.
std::string as_typed(const std::string& option, const std::string& typed, const std::string& resolved) {
    return option + " " + typed + (typed == resolved ? "" : " (" + resolved + ")");
}

void add_paths(const std::vector<std::string>& typed, const char* option, const char* array,
               std::vector<std::string>& into, std::vector<AskedItem>& asked) {
    for (const auto& t : typed) {
        std::string resolved = absolute_cli_path(t);
        asked.push_back({pointer(array, into.size()), as_typed(option, t, resolved)});
        into.push_back(std::move(resolved));
    }
}

bool covered(const std::string& dir, const Policy& policy) {
    auto here = Path::parse(dir, host_path_style());
    if (!here) return false;
    for (const auto* grants : {&policy.filesystem.readwrite, &policy.filesystem.readonly})
        for (const auto& g : *grants)
            if (auto root = Path::parse(g, host_path_style()); root && within(*here, *root)) return true;
    return false;
}

}  // namespace

Result<CliRequest> request_from(const RunArgs& a, Backend backend) {
    CliRequest r;
    auto command = backend == Backend::processcontainer ? windows_command_line(a.argv) : posix_command_line(a.argv);
    if (!command) return command.error();
    r.policy.process.command_line = std::move(*command);
    add_paths(a.ro, "--ro", "/filesystem/readonlyPaths", r.policy.filesystem.readonly, r.asked);
    add_paths(a.rw, "--rw", "/filesystem/readwritePaths", r.policy.filesystem.readwrite, r.asked);
    if (a.cwd) {
        r.policy.process.cwd = absolute_cli_path(*a.cwd);
        r.asked.push_back({"/process/cwd", as_typed("--cwd", *a.cwd, *r.policy.process.cwd)});
    }
    for (const auto& kv : a.env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error(ErrorCode::invalid_policy, "expected KEY=VALUE", "--env " + kv);
        r.asked.push_back({pointer("/process/env", r.policy.process.env.size()), "--env " + kv.substr(0, eq)});
        r.policy.process.env.push_back(EnvVar::parse(kv));
    }
    if (a.timeout) {
        r.policy.process.timeout = Timeout::ms(static_cast<std::uint32_t>(*a.timeout));
        r.asked.push_back({"/process/timeout", "--timeout " + std::to_string(*a.timeout)});
    }
    if (a.network) {
        r.policy.network = NetworkSpec{};
        r.policy.network->egress.default_action = to_egress_default(*enum_from_string<NetworkDefault>(*a.network));
        r.asked.push_back({"/network/egress/default", "--network " + *a.network});
    }
    for (const auto& flag : a.egress) {
        auto rule = parse_egress_flag(flag, "--egress");
        if (!rule) return rule.error();
        if (!r.policy.network) r.policy.network = NetworkSpec{};
        r.asked.push_back({pointer("/network/egress/allow", r.policy.network->egress.allow.size()), "--egress " + flag});
        r.policy.network->egress.allow.push_back(std::move(*rule));
    }
    for (const auto& pattern : a.domains) {  // a typo is refused, like a bad --egress, not dropped
        if (auto p = DomainPattern::parse(pattern); !p) return make_error(ErrorCode::invalid_policy, p.error().message, "--domain");
        r.asked.push_back({pointer("/network/allowedDomains", r.policy.allowed_domains.size()), "--domain " + pattern});
        r.policy.allowed_domains.push_back(pattern);
    }
    return r;
}

Result<ClampOutcome> clamp_request(CliRequest& request, const Ceiling& ceiling, const Capabilities& capabilities,
                                   const ClampOptions& options) {
    auto clamped = clamp(request.policy, ceiling, capabilities, options);
    if (!clamped || request.policy.process.cwd) return clamped;
    std::error_code ec;
    const std::string here = utf8(fs::current_path(ec));
    if (ec || !covered(here, clamped->policy)) return clamped;
    Policy with_cwd = request.policy;
    with_cwd.process.cwd = here;
    auto again = clamp(with_cwd, ceiling, capabilities, options);
    const ClampDecision* cwd = again ? again->report.find("/process/cwd") : nullptr;
    if (!cwd || cwd->verdict != Verdict::kept) return clamped;  // a denied directory, say: run as asked
    request.policy = std::move(with_cwd);
    return again;
}

std::vector<std::string> narrowing_notes(const ClampReport& report, const std::vector<AskedItem>& asked) {
    std::vector<std::string> notes;
    for (const auto& item : asked) {
        const ClampDecision* d = report.find(item.field);
        if (!d || d->verdict == Verdict::kept) continue;
        std::string line = item.option + ": " + std::string(to_string(d->verdict));
        if (d->verdict != Verdict::dropped && !d->result.empty()) {
            line += " to";
            for (std::size_t i = 0; i < d->result.size(); ++i)
                line += (i ? ", " : " ") + d->result[i].value;
        }
        if (!d->reason.empty()) line += ": " + d->reason;
        notes.push_back(std::move(line));
    }
    return notes;
}

}  // namespace cordon::cli
