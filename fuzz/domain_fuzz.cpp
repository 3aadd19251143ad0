// SPDX-License-Identifier: MIT
// Fuzz target: domain patterns and addresses from arbitrary bytes. A parsed pattern or address reprints to
// a text that parses to the same value; lines before the first NUL are a request, after it a ceiling,
// and every grant of their clamp must be matched by both a request and a ceiling pattern.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/detail/address_class.hpp"
#include "cordon/domain_pattern.hpp"

namespace {

std::vector<std::string> lines(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty() && out.size() < 16) {
        auto nl = s.find('\n');
        out.emplace_back(s.substr(0, nl));
        s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
    }
    return out;
}

void round_trips(const std::string& text) {
    if (auto p = cordon::DomainPattern::parse(text)) {
        auto again = cordon::DomainPattern::parse(p->to_string());
        if (!again || *again != *p) std::abort();
    }
    if (auto ip = cordon::detail::IpAddr::parse(text)) {
        auto again = cordon::detail::IpAddr::parse(ip->to_string());
        if (!again || *again != *ip) std::abort();
        (void)cordon::detail::classify(*ip);
    }
    (void)cordon::detail::IpBlock::parse(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    auto nul = all.find('\0');
    auto request = lines(all.substr(0, nul));
    auto ceiling_text = nul == std::string_view::npos ? std::vector<std::string>{} : lines(all.substr(nul + 1));
    std::vector<cordon::DomainPattern> ceiling, asked;
    for (const auto& t : ceiling_text) {
        round_trips(t);
        if (auto p = cordon::DomainPattern::parse(t)) ceiling.push_back(*p);
    }
    for (const auto& t : request) {
        round_trips(t);
        if (auto p = cordon::DomainPattern::parse(t)) asked.push_back(*p);
    }
    auto c = cordon::clamp_domains(request, ceiling);
    if (c.decisions.size() != request.size()) std::abort();
    for (const auto& g : c.granted) {
        // A name the grant matches: the suffix one label deeper for a wildcard, else the name itself.
        std::string probe = g.wildcard ? "z." + g.name : g.name;
        std::uint16_t port = g.port ? g.port : 1;
        if (!cordon::find_match(asked, probe, port) || !cordon::find_match(ceiling, probe, port)) std::abort();
    }
    return 0;
}
