// SPDX-License-Identifier: MIT
// Fuzz target: a ceiling and a request (split at the first NUL byte) clamped lexically in both styles;
// whatever is granted must lie within a ceiling root of at least the same access.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace {
bool within_any(const cordon::Path& p, const std::vector<cordon::Path>& roots) {
    for (const auto& r : roots)
        if (cordon::within(p, r)) return true;
    return false;
}

void run(std::string_view ceiling_text, std::string_view request_text, cordon::PathStyle style, std::uint8_t flags) {
    auto ceiling = cordon::parse_ceiling(ceiling_text, cordon::CeilingOptions{style, false});
    auto request = cordon::from_mxc_json(request_text);
    if (!ceiling || !request) return;
    cordon::Capabilities caps = cordon::capabilities_for(cordon::Backend::bubblewrap, "0.9.0").value();
    if (flags & 1) caps.file_grants = false;
    if (flags & 2) caps.host_filtering = true;
    if (flags & 4) caps = cordon::capabilities_for(cordon::Backend::processcontainer, "0.9.0").value();
    cordon::ClampOptions options{style, false, std::nullopt, {}, {}};
    if (flags & 8) options.executor_dir = style == cordon::PathStyle::windows ? "C:\\Program Files\\mxc" : "/opt/mxc";
    auto out = cordon::clamp(*request, *ceiling, caps, options);
    if (!out) return;
    for (const auto& s : out->policy.filesystem.readwrite) {
        auto p = cordon::Path::parse(s, style);
        if (!p || !within_any(*p, ceiling->readwrite)) std::abort();
    }
    for (const auto& s : out->policy.filesystem.readonly) {
        auto p = cordon::Path::parse(s, style);
        if (!p || !(within_any(*p, ceiling->readonly) || within_any(*p, ceiling->readwrite))) std::abort();
    }
    if (ceiling->timeout < out->policy.process.timeout) std::abort();
    if (!ceiling->allows_network() && out->policy.effective_egress_default() != cordon::EgressDefault::deny) std::abort();
    (void)out->report.to_json();
    (void)cordon::to_mxc_json(out->policy, cordon::emit_contract(out->policy));  // may refuse, never crash
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::uint8_t flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    auto cut = rest.find('\0');
    if (cut == std::string_view::npos) return 0;
    run(rest.substr(0, cut), rest.substr(cut + 1), cordon::PathStyle::windows, flags);
    run(rest.substr(0, cut), rest.substr(cut + 1), cordon::PathStyle::posix, flags);
    return 0;
}
