// SPDX-License-Identifier: MIT
// Domains through the real ceiling loader and clamp(): `network.allowedDomains` in a ceiling file
// and CORDON_ALLOWED_DOMAINS, each request entry's decision in the ClampReport, and the property
// that clamp() never grants a name the ceiling would not match.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/domain_pattern.hpp"

using namespace cordon;

namespace {

Ceiling ceiling_json(const std::string& json) {
    auto c = parse_ceiling(json, CeilingOptions{PathStyle::posix, false});
    REQUIRE_MESSAGE(c.has_value(), (json + " -> " + (c ? std::string() : c.error().to_string())));
    return *c;
}

Result<ClampOutcome> clamp_domains_of(const std::vector<std::string>& asked, const Ceiling& c) {
    Policy p;
    p.process.command_line = "true";
    p.allowed_domains = asked;
    ClampOptions o;
    o.style = PathStyle::posix;
    o.canonicalize = false;
    return clamp(p, c, capabilities_for(Backend::bubblewrap, "1.0.1", "1.0.0").value(), o);
}

Result<Ceiling> from_env(const std::map<std::string, std::string>& vars) {
    return ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                            [&vars](const std::string& name) -> std::optional<std::string> {
                                auto it = vars.find(name);
                                if (it == vars.end()) return std::nullopt;
                                return it->second;
                            });
}

}  // namespace

TEST_CASE("ceiling file: network.allowedDomains and proxyHostsFile") {
    Ceiling c = ceiling_json(R"({"network":{"allowedDomains":["PyPI.org.","*.github.com:443"],"proxyHostsFile":"/etc/lab-hosts"}})");
    REQUIRE(c.allowed_domains.size() == 2);
    CHECK(c.allowed_domains[0].to_string() == "pypi.org");
    CHECK(c.allowed_domains[1].to_string() == "*.github.com:443");
    CHECK(c.proxy_hosts_file == "/etc/lab-hosts");
    CHECK(c.proxy_allowed_internal.empty());  // absent: the proxy refuses every internal destination
    CHECK_FALSE(c.allows_network());  // domains open no direct network

    Ceiling internal = ceiling_json(R"({"network":{"allowedDomains":["db.test"],"allowedInternal":["10.1.2.0/24","fd00::/8","127.0.0.1"]}})");
    CHECK(internal.proxy_allowed_internal == std::vector<std::string>{"10.1.2.0/24", "fd00::/8", "127.0.0.1"});
    for (const char* block : {"10.1.2.1/24", "not-an-address", "10.0.0.0/33"}) {
        auto wrong = parse_ceiling(std::string(R"({"network":{"allowedInternal":["10.0.0.0/8",")") + block + "\"]}}",
                                   CeilingOptions{PathStyle::posix, false});
        REQUIRE_FALSE(wrong.has_value());
        CHECK(wrong.error().where == "/network/allowedInternal/1");
        CHECK(wrong.error().message.find(block) != std::string::npos);
    }

    auto bad = parse_ceiling(R"({"network":{"allowedDomains":["pypi.org","*.com"]}})", CeilingOptions{PathStyle::posix, false});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().where == "/network/allowedDomains/1");
    CHECK(bad.error().message.find("top-level domain") != std::string::npos);
    auto typed = parse_ceiling(R"({"network":{"allowedDomains":"pypi.org"}})", CeilingOptions{PathStyle::posix, false});
    REQUIRE_FALSE(typed.has_value());
    CHECK(typed.error().to_string().find("/network/allowedDomains") != std::string::npos);
}

TEST_CASE("ceiling environment: CORDON_ALLOWED_DOMAINS and CORDON_PROXY_HOSTS_FILE") {
    auto c = from_env({{"CORDON_ALLOWED_DOMAINS", "pypi.org,*.pkg.test:443"}, {"CORDON_PROXY_HOSTS_FILE", "/h"}});
    REQUIRE(c.has_value());
    REQUIRE(c->allowed_domains.size() == 2);
    CHECK(c->allowed_domains[1].to_string() == "*.pkg.test:443");
    CHECK(c->proxy_hosts_file == "/h");
    auto internal = from_env({{"CORDON_ALLOWED_DOMAINS", "db.test"}, {"CORDON_PROXY_ALLOWED_INTERNAL", "10.1.2.0/24,::1"}});
    REQUIRE(internal.has_value());
    CHECK(internal->proxy_allowed_internal == std::vector<std::string>{"10.1.2.0/24", "::1"});
    auto bad_block = from_env({{"CORDON_PROXY_ALLOWED_INTERNAL", "10.1.2.0/24,10.1.2.3/8"}});
    REQUIRE_FALSE(bad_block.has_value());
    CHECK(bad_block.error().where == "CORDON_PROXY_ALLOWED_INTERNAL[1]");
    CHECK(bad_block.error().message.find("host bits") != std::string::npos);
    auto bad = from_env({{"CORDON_ALLOWED_DOMAINS", "pypi.org,10.0.0.1"}});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().where == "CORDON_ALLOWED_DOMAINS[1]");
    CHECK(bad.error().message.find("IP address") != std::string::npos);
    auto empty = from_env({{"CORDON_ALLOWED_DOMAINS", "pypi.org,"}});
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().where == "CORDON_ALLOWED_DOMAINS[1]");
    // The variables count as a ceiling source (so --ceiling FILE beside them is refused).
    auto set = ceiling_env_set("CORDON_", [](const std::string& n) -> std::optional<std::string> {
        if (n == "CORDON_ALLOWED_DOMAINS") return std::string("a.test");
        return std::nullopt;
    });
    CHECK(set == std::vector<std::string>{"CORDON_ALLOWED_DOMAINS"});
    // ... and so do every other network variable (EGRESS_* were missing from the list once).
    for (const char* name : {"CORDON_EGRESS_ALLOW", "CORDON_EGRESS_DENY", "CORDON_PROXY_HOSTS_FILE",
                             "CORDON_PROXY_ALLOWED_INTERNAL"}) {
        auto one = ceiling_env_set("CORDON_", [&](const std::string& n) -> std::optional<std::string> {
            if (n == name) return std::string("x");
            return std::nullopt;
        });
        CHECK(one == std::vector<std::string>{name});
    }
}

TEST_CASE("clamp(): each requested domain is kept, narrowed or dropped, and reported") {
    Ceiling c = ceiling_json(R"({"network":{"allowedDomains":["api.github.com","pypi.org:443","*.pkg.test"]}})");
    auto out = clamp_domains_of({"*.github.com", "pypi.org", "evil.example", "files.pkg.test", "*.com"}, c);
    REQUIRE(out.has_value());
    CHECK(out->policy.allowed_domains == std::vector<std::string>{"api.github.com", "pypi.org:443", "files.pkg.test"});
    const ClampReport& r = out->report;
    auto at = [&r](int i) {
        const ClampDecision* d = r.find("/network/allowedDomains/" + std::to_string(i));
        REQUIRE(d != nullptr);
        return *d;
    };
    CHECK(at(0).verdict == Verdict::narrowed);
    REQUIRE(at(0).result.size() == 1);
    CHECK(at(0).result[0].value == "api.github.com");
    CHECK(at(1).verdict == Verdict::narrowed);
    CHECK(at(1).result[0].value == "pypi.org:443");
    CHECK(at(2).verdict == Verdict::dropped);
    CHECK(at(2).reason == "no ceiling pattern matches evil.example");
    CHECK(at(3).verdict == Verdict::kept);
    CHECK(at(4).verdict == Verdict::dropped);
    CHECK(at(4).reason.find("top-level domain") != std::string::npos);
    CHECK(r.to_json().find("/network/allowedDomains/2") != std::string::npos);

    // No ceiling domains: everything is dropped, and the policy grants none.
    auto none = clamp_domains_of({"pypi.org"}, ceiling_json("{}"));
    REQUIRE(none.has_value());
    CHECK(none->policy.allowed_domains.empty());
    CHECK(none->report.find("/network/allowedDomains/0")->reason == "the ceiling allows no domains");
}

TEST_CASE("property through clamp(): no granted name:port is one the ceiling or the request would not match") {
    std::mt19937 rng(7151);
    auto pick = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    auto name = [&](int min, int max) {
        static const char* const labels[] = {"a", "b", "ab", "x", "com"};
        std::string out;
        for (int i = 0, n = min + pick(max - min + 1); i < n; ++i) out += (i ? "." : "") + std::string(labels[pick(5)]);
        return out;
    };
    auto pattern = [&]() {
        static const char* const ports[] = {"", "", ":80", ":443"};
        return (pick(3) == 0 ? "*." + name(2, 3) : name(1, 3)) + ports[pick(4)];
    };
    int granted_hits = 0, refused_hits = 0;
    for (int round = 0; round < 400; ++round) {
        std::vector<std::string> asked, ceiling_texts;
        for (int i = pick(5); i > 0; --i) asked.push_back(pattern());
        // Half of the ceiling is related to the request (the same, another port, a name or a
        // wildcard below a requested wildcard), so that intersections are common rather than rare.
        auto related = [&](const std::string& text) {
            DomainPattern base = DomainPattern::parse(text).value();
            switch (pick(4)) {
                case 0: return text;
                case 1: return (base.wildcard ? "*." : "") + base.name + ":443";
                case 2: return base.wildcard ? "b." + base.name : text;
                default: return base.wildcard ? "*.b." + base.name : base.name;
            }
        };
        for (int i = 1 + pick(4); i > 0; --i)
            ceiling_texts.push_back(!asked.empty() && pick(2) ? related(asked[static_cast<std::size_t>(pick(static_cast<int>(asked.size())))])
                                                              : pattern());
        std::string json = R"({"network":{"allowedDomains":[)";
        std::vector<std::string> valid_ceiling;
        for (const auto& t : ceiling_texts)
            if (DomainPattern::parse(t)) valid_ceiling.push_back(t);
        for (std::size_t i = 0; i < valid_ceiling.size(); ++i) json += (i ? ",\"" : "\"") + valid_ceiling[i] + "\"";
        Ceiling c = ceiling_json(json + "]}}");
        auto out = clamp_domains_of(asked, c);
        REQUIRE(out.has_value());
        std::vector<DomainPattern> granted, request;
        for (const auto& g : out->policy.allowed_domains) granted.push_back(DomainPattern::parse(g).value());
        for (const auto& a : asked) request.push_back(DomainPattern::parse(a).value());
        for (std::size_t i = 0; i < asked.size(); ++i) CHECK(out->report.find("/network/allowedDomains/" + std::to_string(i)));
        // Candidate hosts: random names, and each pattern's own name and names below it.
        std::vector<std::string> hosts;
        for (int h = 0; h < 15; ++h) hosts.push_back(name(1, 4));
        for (const auto* list : {&request, &c.allowed_domains, &granted})
            for (const auto& p : *list)
                for (const char* below : {"", "b.", "a.x."}) hosts.push_back(below + p.name);
        for (const std::string& host : hosts) {
            for (std::uint16_t port : {std::uint16_t{80}, std::uint16_t{443}}) {
                bool g = find_match(granted, host, port) != nullptr;
                bool both = find_match(c.allowed_domains, host, port) && find_match(request, host, port);
                INFO(json << " asked " << asked.size() << ": " << host << ":" << port);
                REQUIRE(g == both);
                (g ? granted_hits : refused_hits)++;
            }
        }
    }
    MESSAGE("granted " << granted_hits << ", refused " << refused_hits);
    CHECK(granted_hits > 500);  // the generator reaches both sides
    CHECK(refused_hits > 500);
}
