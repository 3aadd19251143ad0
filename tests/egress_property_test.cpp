// SPDX-License-Identifier: MIT
// Property: for thousands of random request/ceiling egress pairs (IPv4, IPv6, IPv4-mapped), what clamp_egress grants lies within both and
// never inside a ceiling deny, checked on concrete packets against a rule-by-rule evaluator and by exact set operations; sets survive rules.
#include "cordon/egress_clamp.hpp"
#include "cordon/clamp.hpp"
#include "cordon/capabilities.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/clamp_helpers.hpp"
#include "support/egress_helpers.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {

// Small address and port universes, so that random rules overlap, nest and touch often.
class Generator {
public:
    explicit Generator(unsigned seed) : rng_(seed) {}

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

    Egress egress() {
        Egress e;
        int d = pick(8);
        if (d == 0) e.default_action = EgressDefault::allow;
        else if (d < 4) e.default_action = EgressDefault::deny;
        for (int i = pick(5); i > 0; --i) e.allow.push_back(rule());
        for (int i = pick(4); i > 0; --i) e.deny.push_back(rule());
        return e;
    }

    // Every block the generator made, for probing its edges.
    const std::vector<Cidr>& blocks() const { return blocks_; }
    void forget() { blocks_.clear(); }

    Packet random_packet(const std::vector<IpAddress>& addresses) {
        static const Transport ts[] = {Transport::tcp, Transport::udp, Transport::icmp, Transport::other};
        static const std::uint16_t edges[] = {0, 1, 2, 39, 40, 41, 65534, 65535};
        std::uint16_t port = pick(3) ? static_cast<std::uint16_t>(pick(43)) : edges[pick(8)];
        return Packet{addresses[static_cast<std::size_t>(pick(static_cast<int>(addresses.size())))], ts[pick(4)], port};
    }

private:
    EgressRule rule() {
        EgressRule r;
        if (pick(7)) {
            r.to.emplace();
            for (int i = 1 + pick(3); i > 0; --i) r.to->push_back(peer());
        }
        if (pick(4)) {
            r.ports.emplace();
            for (int i = 1 + pick(3); i > 0; --i) r.ports->push_back(port());
        }
        return r;
    }

    // 4096-address regions: IPv4 10.0.0.0/20, IPv6 2001:db8::/116, IPv4-mapped 10.0.0.0/20, and the
    // two sides of the IPv6/IPv4 seam on the unified axis (the IPv6 /116 just below ::ffff:0:0, and
    // IPv4 0.0.0.0/20 just above it); now and then a wide block.
    Cidr block(int family) {
        unsigned width = 12;
        unsigned prefix_in = static_cast<unsigned>(pick(13));  // 0..12 bits below the /20 (/116)
        std::uint32_t offset = static_cast<std::uint32_t>(pick(1 << 12)) & ~((1u << (width - prefix_in)) - 1);
        Cidr c;
        switch (family) {
            case 0: c = Cidr::make(IpAddress::v4(0x0a000000u + offset), 20 + prefix_in).value(); break;
            case 1: c = Cidr::make(IpAddress::v6(Uint128{0x20010db800000000ull, offset}), 116 + prefix_in).value(); break;
            case 2: c = Cidr::make(IpAddress::v6(Uint128{0, 0xffff0a000000ull + offset}), 116 + prefix_in).value(); break;
            case 3: c = Cidr::make(IpAddress::v6(Uint128{0, 0xfffefffff000ull + offset}), 116 + prefix_in).value(); break;
            default: c = Cidr::make(IpAddress::v4(offset), 20 + prefix_in).value(); break;
        }
        static const char* const wide[] = {"10.0.0.0/8", "2001:db8::/32", "::ffff:0:0/96", "::fffe:0:0/96", "0.0.0.0/0"};
        if (pick(20) == 0) c = Cidr::parse(wide[family]).value();
        blocks_.push_back(c);
        return c;
    }

    Peer peer() {
        static const int families[] = {0, 0, 0, 0, 1, 1, 2, 3, 4, 4};
        int family = families[pick(10)];
        Peer p{block(family), {}};
        for (int i = pick(3); i > 0; --i) {
            Cidr inner = block(family);
            if (p.cidr.contains(inner)) p.except.push_back(inner);
        }
        return p;
    }

    PortSpec port() {
        static const Protocol ps[] = {Protocol::any, Protocol::tcp, Protocol::udp, Protocol::icmp};
        Protocol p = ps[pick(4)];
        if (p == Protocol::icmp || pick(4) == 0) return PortSpec::all(p);
        auto first = static_cast<std::uint16_t>(1 + pick(40));
        if (pick(12) == 0) return PortSpec::range(p, 65530, 65535);
        return PortSpec::range(p, first, static_cast<std::uint16_t>(first + (pick(2) ? 0 : pick(6))));
    }

    std::mt19937 rng_;
    std::vector<Cidr> blocks_;
};

// Destinations around the generated blocks: their ends, the neighbours of their ends, mapped
// spellings of the IPv4 ones, and fixed outsiders.
std::vector<IpAddress> probe_addresses(const std::vector<Cidr>& blocks) {
    std::vector<IpAddress> out;
    for (const char* a : {"10.0.0.0", "10.0.15.255", "10.0.16.0", "9.255.255.255", "2001:db8::", "2001:db8::fff",
                          "2001:db8::1000", "::ffff:10.0.3.4", "1.2.3.4", "::1"})
        out.push_back(IpAddress::parse(a).value());
    auto same_family = [](IpAddress a, Uint128 v) {
        return a.family() == IpFamily::v4 ? IpAddress::v4(static_cast<std::uint32_t>(v.lo)) : IpAddress::v6(v);
    };
    for (const Cidr& c : blocks) {
        for (IpAddress a : {c.first(), c.last()}) {
            out.push_back(a);
            out.push_back(same_family(a, a.value().next()));
            out.push_back(same_family(a, a.value().prev()));
            if (a.family() == IpFamily::v4) out.push_back(IpAddress::v6(Uint128{0, 0xffff00000000ull | a.value().lo}));
        }
    }
    return out;
}

std::string describe(const Packet& p) {
    static const char* names[] = {"tcp", "udp", "icmp", "other"};
    return p.destination.str() + " " + names[static_cast<int>(p.transport)] + "/" + std::to_string(p.port);
}

// Counts packets where `got` and `want` disagree, remembering the first.
struct Mismatches {
    int count = 0;
    std::string first;
    void check(bool got, bool want, const char* what, const Packet& p) {
        if (got == want) return;
        if (count++ == 0) first = std::string(what) + " at " + describe(p) + ": got " + (got ? "allowed" : "denied");
    }
};

}  // namespace

TEST_CASE("property: clamp_egress grants only what both allow, never a ceiling deny; sets and rules agree") {
    Generator gen(20260801);
    const int cases = 3000;
    int granted_nonempty = 0, narrowed = 0, kept = 0, dropped = 0, v6_points = 0;
    for (int n = 0; n < cases; ++n) {
        gen.forget();
        Egress request = gen.egress();
        Egress ceiling = gen.egress();
        CAPTURE(n);
        CAPTURE(to_json(request));
        CAPTURE(to_json(ceiling));
        EgressSet r = set_of(request), c = set_of(ceiling);
        EgressSet c_deny = EgressSet::from_rules(ceiling.deny).value();
        auto out = clamp_egress(request, ceiling);
        REQUIRE(out.has_value());
        const EgressSet& g = out->granted;
        granted_nonempty += !g.empty();

        // exact set operations
        CHECK(g == (r & c));
        CHECK(g.subset_of(r));
        CHECK(g.subset_of(c));
        CHECK((g & c_deny).empty());
        CHECK(g.expressible());
        CHECK(set_of(out->egress) == g);  // the emitted rules say exactly the granted set
        EgressSet u = r | c, d = r - c;
        CHECK((d | g) == r);
        CHECK((d & c).empty());
        CHECK((u - c) == d);
        for (const EgressSet* x : {&u, &d}) {
            EgressSet said = x->expressible_part();
            CHECK(said.subset_of(*x));
            CHECK(set_of(x->to_egress()) == said);
        }

        // concrete packets, against the rule-by-rule evaluator
        auto addresses = probe_addresses(gen.blocks());
        Mismatches bad;
        for (int k = 0; k < 250; ++k) {
            Packet p = gen.random_packet(addresses);
            v6_points += p.destination.family() == IpFamily::v6 && !p.destination.is_v4_mapped();
            bool in_r = naive_admits(request, p), in_c = naive_admits(ceiling, p);
            bool in_deny = false;
            for (const EgressRule& rule : ceiling.deny) in_deny = in_deny || rule_matches(rule, p);
            bad.check(r.admits(p), in_r, "request set", p);
            bad.check(c.admits(p), in_c, "ceiling set", p);
            bad.check(g.admits(p), in_r && in_c, "granted set", p);
            bad.check(naive_admits(out->egress, p), in_r && in_c, "emitted rules", p);
            bad.check(g.admits(p) && in_deny, false, "granted inside a ceiling deny", p);
            bad.check(u.admits(p), in_r || in_c, "union", p);
            bad.check(d.admits(p), in_r && !in_c, "difference", p);
            if (p.transport != Transport::other)  // only "other protocols" may be unsayable in MXC
                bad.check(u.expressible_part().admits(p), u.admits(p), "sayable part of the union", p);
        }
        CHECK_MESSAGE(bad.count == 0, bad.first);

        // one decision per requested rule, and each verdict tells the truth
        EgressSet own_deny = EgressSet::from_rules(request.deny).value();
        std::size_t expected = request.allow.size() + request.deny.size() +
                               (request.effective_default() == EgressDefault::allow ? 1 : 0);
        REQUIRE(out->decisions.size() == expected);
        std::size_t first_rule = request.effective_default() == EgressDefault::allow ? 1 : 0;
        for (std::size_t i = 0; i < request.allow.size(); ++i) {
            const EgressDecision& dec = out->decisions[first_rule + i];
            CHECK(dec.field == "/network/egress/allow/" + std::to_string(i));
            EgressSet asked = EgressSet::from_rule(request.allow[i]).value() - own_deny;
            EgressSet got = asked & c;
            CHECK(set_of(dec.granted) == got);
            if (dec.verdict == Verdict::kept) {
                ++kept;
                CHECK(!asked.empty());
                CHECK(asked.subset_of(c));
                CHECK(dec.reason.empty());
            } else if (dec.verdict == Verdict::dropped) {
                ++dropped;
                CHECK(got.empty());
                CHECK(!dec.reason.empty());
            } else {
                ++narrowed;
                CHECK(dec.verdict == Verdict::narrowed);
                CHECK(!got.empty());
                CHECK(got != asked);
                CHECK(dec.reason.rfind("narrowed to what the ceiling allows: ", 0) == 0);
            }
        }
    }
    // the generator reaches every outcome, in both families
    CHECK(granted_nonempty > cases / 4);
    CHECK(kept > 100);
    CHECK(narrowed > 100);
    CHECK(dropped > 100);
    CHECK(v6_points > 10000);
    MESSAGE("egress property: " << cases << " cases; rule verdicts kept " << kept << ", narrowed " << narrowed
                                << ", dropped " << dropped);
}

// The ceiling path: the same kind of random pairs through clamp() itself, with the ceiling's rules in
// a Ceiling (default allow = `network: allow`), random host addresses inside the generated blocks,
// some of them named by a ceiling allow peer of their own. What the clamped policy emits is exactly
// (request ∩ ceiling) minus the host addresses the ceiling does not name.
TEST_CASE("property: through clamp(), the ceiling's egress rules bound the grant and unnamed host addresses never pass") {
    Generator gen(20261201);
    Capabilities caps = capabilities_for(Backend::bubblewrap, "1.0.1", "1.0.0").value();
    caps.silent_peers = {};  // refusals of silent blocks have their own tests
    const int cases = 1500;
    int host_blocked = 0, host_named = 0, checked = 0;
    for (int n = 0; n < cases; ++n) {
        gen.forget();
        Egress request = gen.egress(), ceiling_egress = gen.egress();
        Ceiling ceiling;
        ceiling.style = PathStyle::posix;
        ceiling.network = ceiling_egress.effective_default() == EgressDefault::allow ? NetworkDefault::allow
                                                                                     : NetworkDefault::block;
        ceiling.egress = Egress{std::nullopt, ceiling_egress.allow, ceiling_egress.deny};
        std::vector<Cidr> hosts;
        for (int i = gen.pick(3); i > 0; --i) {
            Cidr b = gen.blocks().empty() ? Cidr::parse("10.0.0.7").value() : gen.blocks()[gen.pick(static_cast<int>(gen.blocks().size()))];
            Cidr h = Cidr::host(b.first().unmapped());
            hosts.push_back(h);
            if (gen.pick(3) == 0) ceiling.egress.allow.push_back(EgressRule{std::vector<Peer>{Peer{h, {}}}, std::nullopt});
        }
        Policy p;
        p.process.command_line = "true";
        p.network = NetworkSpec{};
        p.network->egress = request;
        ClampOptions options = cordon::test::lexical(PathStyle::posix);
        options.host_addresses = hosts;
        CAPTURE(n);
        CAPTURE(to_json(request));
        CAPTURE(to_json(ceiling.egress));
        auto out = clamp(p, ceiling, caps, options);
        REQUIRE_MESSAGE(out.has_value(), out.error().to_string());
        const Egress& emitted = out->policy.network.value().egress;
        EgressSet g = set_of(emitted);
        Egress effective_ceiling = ceiling.egress;
        effective_ceiling.default_action = ceiling.network == NetworkDefault::allow ? EgressDefault::allow : EgressDefault::deny;
        EgressSet r = set_of(request), c = ceiling.allows_network() ? set_of(effective_ceiling) : EgressSet();
        EgressSet unnamed = detail::unnamed_host_addresses(hosts, effective_ceiling).value();
        CHECK(g == ((r & c) - unnamed));
        CHECK((g & unnamed).empty());
        CHECK((g & EgressSet::from_rules(ceiling.egress.deny).value()).empty());
        if (g.empty()) CHECK((emitted.allow.empty() && emitted.deny.empty()));  // nothing allowed: no rules, no slirp
        host_blocked += !((r & c) & unnamed).empty();
        std::vector<EgressRule> host_rules;
        for (const Cidr& h : hosts) host_rules.push_back(EgressRule{std::vector<Peer>{Peer{h, {}}}, std::nullopt});
        host_named += !(g & EgressSet::from_rules(host_rules).value()).empty();  // granted because named
        for (const Cidr& h : hosts)  // a concrete packet to every host address
            for (Transport t : {Transport::tcp, Transport::udp}) {
                Packet pk{h.first(), t, static_cast<std::uint16_t>(1 + gen.pick(40))};
                bool named = !EgressSet::from_rule(EgressRule{std::vector<Peer>{Peer{h, {}}}, std::nullopt}).value().subset_of(unnamed);
                CHECK(g.admits(pk) == (named && naive_admits(request, pk) && ceiling.allows_network() &&
                                       naive_admits(effective_ceiling, pk)));
                ++checked;
            }
        // one decision per requested item, under the directional pointers
        for (std::size_t i = 0; i < request.allow.size(); ++i)
            CHECK(out->report.find("/network/egress/allow/" + std::to_string(i)) != nullptr);
    }
    CHECK(host_blocked > 50);
    CHECK(host_named > 20);
    MESSAGE("ceiling path: " << cases << " cases, " << host_blocked << " where an unnamed host address was kept out, "
                             << host_named << " where a named one was granted, " << checked << " host packets checked");
}
