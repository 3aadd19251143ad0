// SPDX-License-Identifier: MIT
// Domain patterns: parsing and its error messages, matching, intersection, the clamp of a request's list, and a property test.
#include "cordon/domain_pattern.hpp"

#include <doctest/doctest.h>

#include "cordon/detail/address_class.hpp"  // see address_class_test.cpp (one definition rule)

#include <random>
#include <set>
#include <string>
#include <vector>

using namespace cordon;

namespace {

DomainPattern pat(const std::string& text) {
    auto p = DomainPattern::parse(text);
    REQUIRE_MESSAGE(p.has_value(), text);
    return *p;
}

std::string parse_error(const std::string& text) {
    auto p = DomainPattern::parse(text);
    REQUIRE_MESSAGE(!p.has_value(), text);
    CHECK(p.error().code == ErrorCode::invalid_policy);
    return p.error().message;
}

std::vector<DomainPattern> pats(const std::vector<std::string>& texts) {
    std::vector<DomainPattern> out;
    for (const auto& t : texts) out.push_back(pat(t));
    return out;
}

}  // namespace

TEST_CASE("domain patterns parse to a normal form") {
    CHECK(pat("PyPI.Org").to_string() == "pypi.org");
    CHECK(pat("pypi.org.").to_string() == "pypi.org");  // the absolute spelling
    CHECK(pat("*.GitHub.com:443").to_string() == "*.github.com:443");
    CHECK(pat("*.github.com:443").wildcard);
    CHECK(pat("*.github.com:443").name == "github.com");
    CHECK(pat("*.github.com:443").port == 443);
    CHECK(pat("localhost").port == 0);
    CHECK(pat("xn--bcher-kva.example").name == "xn--bcher-kva.example");  // punycode is ASCII
    CHECK(pat("_dmarc.example.com").name == "_dmarc.example.com");
    CHECK(pat("a.b:65535").port == 65535);
    CHECK(pat("1.2.3.example").name == "1.2.3.example");  // numeric labels, but not the last
}

TEST_CASE("bad domain patterns are refused with what is wrong") {
    CHECK(parse_error("").find("is empty") != std::string::npos);
    CHECK(parse_error("*").find("bare '*'") != std::string::npos);
    CHECK(parse_error("*:443").find("bare '*'") != std::string::npos);
    CHECK(parse_error("*.com").find("whole top-level domain") != std::string::npos);
    CHECK(parse_error("a.*.com").find("leftmost label") != std::string::npos);
    CHECK(parse_error("*a.com").find("leftmost label") != std::string::npos);
    CHECK(parse_error("a*.com").find("leftmost label") != std::string::npos);
    CHECK(parse_error("**.a.com").find("leftmost label") != std::string::npos);
    CHECK(parse_error("a..com").find("empty label") != std::string::npos);
    CHECK(parse_error(".a.com").find("empty label") != std::string::npos);
    CHECK(parse_error("a.com..").find("empty label") != std::string::npos);
    CHECK(parse_error("-a.com").find("begins or ends with '-'") != std::string::npos);
    CHECK(parse_error("a-.com").find("begins or ends with '-'") != std::string::npos);
    CHECK(parse_error("a b.com").find("' '") != std::string::npos);
    CHECK(parse_error("a/b.com").find("'/'") != std::string::npos);
    CHECK(parse_error("a\x01" "b.com").find("control character") != std::string::npos);
    CHECK(parse_error("b\xc3\xbc" "cher.example").find("punycode") != std::string::npos);
    CHECK(parse_error(std::string(64, 'a') + ".com").find("longer than 63") != std::string::npos);
    std::string long_name;
    for (int i = 0; i < 60; ++i) long_name += "abcd.";
    long_name += "com";
    CHECK(parse_error(long_name).find("253") != std::string::npos);
    // IP literals belong to CIDR rules, including the forms URL parsers read as IPv4.
    for (const char* ip : {"127.0.0.1", "10.0.0.1:80", "127.1", "2130706433", "0x7f.1", "a.0x10", "[::1]", "[::1]:80",
                           "::1", "fe80::1", "169.254.169.254:80"})
        CHECK_MESSAGE(parse_error(ip).find("IP address literal") != std::string::npos, ip);
    for (const char* port : {"a.com:", "a.com:0", "a.com:65536", "a.com:080", "a.com:http", "a.com:-1", "a.com:1:2"})
        CHECK_MESSAGE(!DomainPattern::parse(port), port);
    CHECK(parse_error("a.com:0").find("1 to 65535") != std::string::npos);
    CHECK(parse_error("pypi.org:99999").find("pypi.org:99999") != std::string::npos);  // names the input
}

TEST_CASE("matching: exact names, wildcards below the suffix only, ports") {
    CHECK(matches(pat("pypi.org"), "pypi.org", 443));
    CHECK(matches(pat("pypi.org"), "PYPI.ORG.", 80));  // case and the trailing dot do not matter
    CHECK_FALSE(matches(pat("pypi.org"), "www.pypi.org", 443));
    CHECK_FALSE(matches(pat("pypi.org"), "pypi.org.evil", 443));
    CHECK(matches(pat("*.github.com"), "api.github.com", 443));
    CHECK(matches(pat("*.github.com"), "a.b.github.com", 443));  // any depth
    CHECK_FALSE(matches(pat("*.github.com"), "github.com", 443));  // not the suffix itself
    CHECK_FALSE(matches(pat("*.github.com"), "evilgithub.com", 443));
    CHECK_FALSE(matches(pat("*.github.com"), "github.com.evil", 443));
    CHECK(matches(pat("*.github.com:443"), "api.github.com", 443));
    CHECK_FALSE(matches(pat("*.github.com:443"), "api.github.com", 80));
    // Hosts that are no domain name match nothing, even where a suffix compare would say yes.
    CHECK_FALSE(matches(pat("*.example.com"), "evil/.example.com", 80));
    CHECK_FALSE(matches(pat("*.example.com"), "a..example.com", 80));
    CHECK_FALSE(matches(pat("*.example.com"), std::string("evil\0.example.com", 17), 80));
    CHECK_FALSE(matches(pat("*.example.com"), "", 80));
    auto list = pats({"pypi.org", "*.github.com:443"});
    REQUIRE(find_match(list, "api.github.com", 443) != nullptr);
    CHECK(find_match(list, "api.github.com", 443)->to_string() == "*.github.com:443");
    CHECK(find_match(list, "api.github.com", 22) == nullptr);
}

TEST_CASE("normalize_domain refuses what is no domain name") {
    CHECK(*normalize_domain("Api.GitHub.com.") == "api.github.com");
    CHECK(!normalize_domain("127.0.0.1"));
    CHECK(!normalize_domain("[::1]"));
    CHECK(!normalize_domain("a b"));
    CHECK(normalize_domain("127.0.0.1").error().message.find("IP address literal") != std::string::npos);
}

TEST_CASE("intersection and coverage") {
    auto x = [](const char* a, const char* b) {
        auto r = intersect(pat(a), pat(b));
        return r ? r->to_string() : std::string("(none)");
    };
    CHECK(x("*.github.com", "api.github.com") == "api.github.com");
    CHECK(x("api.github.com", "*.github.com") == "api.github.com");
    CHECK(x("*.github.com", "*.api.github.com") == "*.api.github.com");
    CHECK(x("*.github.com", "github.com") == "(none)");
    CHECK(x("*.github.com", "*.gitlab.com") == "(none)");
    CHECK(x("*.github.com:443", "api.github.com") == "api.github.com:443");
    CHECK(x("*.github.com", "api.github.com:443") == "api.github.com:443");
    CHECK(x("a.com:80", "a.com:443") == "(none)");
    CHECK(x("a.com:80", "a.com:80") == "a.com:80");
    CHECK(covers(pat("*.a.com"), pat("*.b.a.com:9")));
    CHECK_FALSE(covers(pat("*.a.com:9"), pat("*.b.a.com")));
    CHECK_FALSE(covers(pat("*.a.com"), pat("a.com")));
    CHECK(covers(pat("a.com"), pat("a.com:1")));
}

TEST_CASE("clamp of a request's domains: kept, narrowed, dropped, each reported") {
    auto ceiling = pats({"api.github.com", "pypi.org", "*.pythonhosted.org:443", "files.example:8080"});
    auto c = clamp_domains({"*.github.com", "evil.example", "PyPI.org", "files.pythonhosted.org", "files.example:9090",
                            "*.", "pypi.org:443"},
                           ceiling);
    REQUIRE(c.decisions.size() == 7);
    const ClampDecision& narrowed = c.decisions[0];
    CHECK(narrowed.field == "/network/allowedDomains/0");
    CHECK(narrowed.verdict == Verdict::narrowed);
    REQUIRE(narrowed.result.size() == 1);
    CHECK(narrowed.result[0].value == "api.github.com");
    CHECK(narrowed.result[0].field == "/network/allowedDomains");
    CHECK(narrowed.reason == "the ceiling allows only api.github.com of *.github.com");
    CHECK(c.decisions[1].verdict == Verdict::dropped);
    CHECK(c.decisions[1].result.empty());
    CHECK(c.decisions[1].reason == "no ceiling pattern matches evil.example");
    CHECK(c.decisions[2].verdict == Verdict::kept);  // case does not make it a different name
    CHECK(c.decisions[2].reason.empty());
    CHECK(c.decisions[3].verdict == Verdict::narrowed);  // the ceiling grants only port 443
    CHECK(c.decisions[3].result[0].value == "files.pythonhosted.org:443");
    CHECK(c.decisions[4].verdict == Verdict::dropped);
    CHECK(c.decisions[4].reason.find("only as files.example:8080 (another port)") != std::string::npos);
    CHECK(c.decisions[5].verdict == Verdict::dropped);
    CHECK(c.decisions[5].reason.find("bare '*'") != std::string::npos);
    CHECK(c.decisions[6].verdict == Verdict::kept);
    // pypi.org:443 is covered by pypi.org, so the granted list holds it once.
    std::vector<std::string> granted;
    for (const auto& p : c.granted) granted.push_back(p.to_string());
    CHECK(granted == std::vector<std::string>{"api.github.com", "pypi.org", "files.pythonhosted.org:443"});
    CHECK(clamp_domains({"a.com"}, {}).decisions[0].reason == "the ceiling allows no domains");
    // A wildcard request under several ceiling patterns becomes all of them, without duplicates.
    auto multi = clamp_domains({"*.github.com"}, pats({"api.github.com", "*.api.github.com", "raw.github.com:443",
                                                       "*.github.com:443"}));
    std::vector<std::string> parts;
    for (const auto& r : multi.decisions[0].result) parts.push_back(r.value);
    CHECK(parts == std::vector<std::string>{"api.github.com", "*.api.github.com", "*.github.com:443"});
    // The report serialises like the rest of the clamp report.
    ClampReport report;
    report.decisions = c.decisions;
    CHECK(report.to_json().find(R"("requested":"*.github.com","verdict":"narrowed")") != std::string::npos);
}

TEST_CASE("parse_domain_patterns points at the bad entry") {
    auto ok = parse_domain_patterns({"a.com", "*.b.com:443"});
    REQUIRE(ok);
    CHECK(ok->size() == 2);
    auto bad = parse_domain_patterns({"a.com", "10.0.0.1"}, "/network/allowedDomains");
    REQUIRE(!bad);
    CHECK(bad.error().where == "/network/allowedDomains/1");
    CHECK(bad.error().message.find("10.0.0.1") != std::string::npos);
}

namespace {

// Small alphabets make names nest, collide and share suffixes often.
class NameGenerator {
public:
    explicit NameGenerator(unsigned seed) : rng_(seed) {}

    std::string name(int min_labels, int max_labels) {
        static const char* const labels[] = {"a", "b", "ab", "x", "com"};
        int n = min_labels + pick(max_labels - min_labels + 1);
        std::string out;
        for (int i = 0; i < n; ++i) out += (i ? "." : "") + std::string(labels[pick(5)]);
        if (pick(8) == 0) out[0] = static_cast<char>(out[0] - 'a' + 'A');
        return out;
    }
    std::string pattern_text() {
        if (pick(25) == 0) return pick(2) ? "*" : "bad..name";  // invalid now and then
        std::string out = pick(3) == 0 ? "*." + name(2, 3) : name(1, 3);
        static const char* const ports[] = {"", "", ":80", ":443"};
        return out + ports[pick(4)];
    }
    std::uint16_t port() {
        static const std::uint16_t ports[] = {80, 443, 8080};
        return ports[pick(3)];
    }
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

private:
    std::mt19937 rng_;
};

bool any_match(const std::vector<DomainPattern>& list, const std::string& host, std::uint16_t port) {
    return find_match(list, host, port) != nullptr;
}

}  // namespace

TEST_CASE("property: granted = request AND ceiling, for generated lists (fixed seed)") {
    NameGenerator gen(20240611);
    int granted_hits = 0, request_only = 0, ceiling_only = 0, checked = 0;
    std::size_t verdicts[4] = {};
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::string> request;
        for (int i = gen.pick(5); i > 0; --i) request.push_back(gen.pattern_text());
        std::vector<DomainPattern> ceiling;
        for (int i = gen.pick(5); i > 0; --i) {
            // Half of the ceiling is related to the request (the same, one label deeper, a wildcard
            // over it, another port), so that intersections are common rather than rare.
            std::string text = gen.pattern_text();
            if (!request.empty() && gen.pick(2)) {
                std::string base = request[static_cast<std::size_t>(gen.pick(static_cast<int>(request.size())))];
                switch (gen.pick(4)) {
                    case 0: text = base; break;
                    case 1: text = "b." + base; break;
                    case 2: text = "*." + base; break;
                    default: text = base.substr(0, base.rfind(':')) + ":443"; break;
                }
            }
            if (auto p = DomainPattern::parse(text)) ceiling.push_back(*p);
        }
        std::vector<DomainPattern> asked;
        for (const auto& r : request)
            if (auto p = DomainPattern::parse(r)) asked.push_back(*p);
        DomainClamp c = clamp_domains(request, ceiling);
        REQUIRE(c.decisions.size() == request.size());

        // Candidate hosts: random names plus each pattern's own name and names below it.
        std::vector<std::string> hosts;
        for (int i = 0; i < 30; ++i) hosts.push_back(gen.name(1, 4));
        for (const auto* list : {&asked, &ceiling, &c.granted})
            for (const auto& p : *list) {
                hosts.push_back(p.name);
                hosts.push_back("b." + p.name);
                hosts.push_back("a.x." + p.name);
            }
        for (const auto& host : hosts)
            for (std::uint16_t port : {std::uint16_t{80}, std::uint16_t{443}, std::uint16_t{8080}}) {
                bool by_request = any_match(asked, host, port);
                bool by_ceiling = any_match(ceiling, host, port);
                bool granted = any_match(c.granted, host, port);
                ++checked;
                // Nothing granted that a request pattern matches but the ceiling does not (nor the
                // reverse), and nothing both match is lost.
                INFO("round " << round << ": " << host << ":" << port);
                REQUIRE(granted == (by_request && by_ceiling));
                granted_hits += granted;
                request_only += by_request && !by_ceiling;
                ceiling_only += by_ceiling && !by_request;
            }
        // Every decision is consistent with what it says.
        for (std::size_t i = 0; i < c.decisions.size(); ++i) {
            const auto& d = c.decisions[i];
            ++verdicts[static_cast<int>(d.verdict)];
            if (d.verdict == Verdict::dropped) CHECK(d.result.empty());
            else CHECK(!d.result.empty());
            if (d.verdict == Verdict::kept) {
                REQUIRE(d.result.size() == 1);
                CHECK(d.result[0].value == DomainPattern::parse(request[i])->to_string());
            }
            CHECK((d.verdict == Verdict::kept) == d.reason.empty());
        }
        // No granted pattern is covered by another one.
        for (std::size_t i = 0; i < c.granted.size(); ++i)
            for (std::size_t j = 0; j < c.granted.size(); ++j)
                if (i != j) CHECK_FALSE(covers(c.granted[j], c.granted[i]));
    }
    // The generator must exercise every side of the property, or the test proves nothing.
    MESSAGE("checked " << checked << " host:port pairs; granted " << granted_hits << ", request only " << request_only
                       << ", ceiling only " << ceiling_only);
    CHECK(granted_hits > 2000);
    CHECK(request_only > 2000);
    CHECK(ceiling_only > 2000);
    CHECK(verdicts[static_cast<int>(Verdict::kept)] > 300);
    CHECK(verdicts[static_cast<int>(Verdict::narrowed)] > 200);
    CHECK(verdicts[static_cast<int>(Verdict::dropped)] > 300);
}

namespace {

// The clamp as first written: every requested pattern against every ceiling pattern, and covered
// patterns removed pairwise. Quadratic, and obviously right; the indexed clamp_domains must agree.
std::vector<DomainPattern> reference_remove_covered(const std::vector<DomainPattern>& list) {
    std::vector<DomainPattern> kept;
    for (std::size_t i = 0; i < list.size(); ++i) {
        bool covered = false;
        for (std::size_t j = 0; j < list.size() && !covered; ++j)
            covered = j != i && covers(list[j], list[i]) && (list[i] != list[j] || j < i);
        if (!covered) kept.push_back(list[i]);
    }
    return kept;
}

DomainClamp reference_clamp(const std::vector<std::string>& request, const std::vector<DomainPattern>& ceiling) {
    DomainClamp out;
    for (std::size_t i = 0; i < request.size(); ++i) {
        ClampDecision d;
        d.field = "/network/allowedDomains/" + std::to_string(i);
        d.requested = request[i];
        auto asked = DomainPattern::parse(request[i]);
        if (!asked) {
            d.reason = asked.error().message;
            out.decisions.push_back(std::move(d));
            continue;
        }
        std::vector<DomainPattern> parts;
        for (const auto& c : ceiling)
            if (auto x = intersect(*asked, c)) parts.push_back(*x);
        parts = reference_remove_covered(parts);
        if (parts.empty()) {
            std::vector<DomainPattern> other;
            for (const auto& c : ceiling)
                if (intersect(DomainPattern{asked->name, asked->wildcard, 0}, DomainPattern{c.name, c.wildcard, 0}))
                    other.push_back(c);
            d.reason = ceiling.empty() ? "the ceiling allows no domains"
                       : other.empty() ? "no ceiling pattern matches " + asked->to_string()
                                       : "the ceiling allows " + asked->to_string() + " only as " +
                                             detail::join_patterns(other) + " (another port)";
        } else if (parts.size() == 1 && parts[0] == *asked) {
            d.verdict = Verdict::kept;
        } else {
            d.verdict = Verdict::narrowed;
            d.reason = "the ceiling allows only " + detail::join_patterns(parts) + " of " + asked->to_string();
        }
        for (const auto& p : parts) {
            d.result.push_back(ClampResultItem{"/network/allowedDomains", p.to_string()});
            out.granted.push_back(p);
        }
        out.decisions.push_back(std::move(d));
    }
    out.granted = reference_remove_covered(out.granted);
    return out;
}

}  // namespace

TEST_CASE("the indexed clamp_domains decides exactly as the pairwise one, on short lists and long ones") {
    NameGenerator gen(777);
    int long_lists = 0;
    for (int round = 0; round < 600; ++round) {
        const int size = round % 10 == 0 ? 40 : 6;  // every tenth list is long enough for the index path
        std::vector<std::string> request;
        std::vector<DomainPattern> ceiling;
        for (int i = gen.pick(size); i > 0; --i) request.push_back(gen.pattern_text());
        for (int i = gen.pick(size); i > 0; --i)
            if (auto p = DomainPattern::parse(gen.pick(3) == 0 && !request.empty() ? "*." + gen.name(2, 3)
                                                                                 : gen.pattern_text()))
                ceiling.push_back(*p);
        long_lists += ceiling.size() > 16;
        DomainClamp fast = clamp_domains(request, ceiling);
        DomainClamp slow = reference_clamp(request, ceiling);
        INFO("round " << round);
        REQUIRE(fast.granted == slow.granted);
        REQUIRE(fast.decisions.size() == slow.decisions.size());
        for (std::size_t i = 0; i < fast.decisions.size(); ++i) {
            CHECK(fast.decisions[i].verdict == slow.decisions[i].verdict);
            CHECK(fast.decisions[i].result == slow.decisions[i].result);
            CHECK(fast.decisions[i].reason == slow.decisions[i].reason);
        }
        std::vector<DomainPattern> many = ceiling;  // remove_covered on a long list takes the index
        many.insert(many.end(), ceiling.begin(), ceiling.end());
        auto copy = many;
        detail::remove_covered(copy);
        CHECK(copy == reference_remove_covered(many));
    }
    CHECK(long_lists > 20);
}
