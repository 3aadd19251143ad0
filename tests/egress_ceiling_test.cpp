// SPDX-License-Identifier: MIT
// Egress through clamp(): the ceiling's rules, deny beating allow, the host's own addresses kept out
// unless named, blocks the backend would silently never reach refused, and what each verdict reports.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/egress_flag.hpp"
#include "support/clamp_helpers.hpp"
#include "support/egress_helpers.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {

Capabilities bwrap() { return capabilities_for(Backend::bubblewrap, "1.0.1", "1.0.0").value(); }

Ceiling ceiling_of(const std::string& egress_json, NetworkDefault network = NetworkDefault::block) {
    Ceiling c;
    c.style = PathStyle::posix;
    c.network = network;
    c.egress = egress_of(egress_json);
    return c;
}

Policy asking(const std::string& egress_json) {
    Policy p;
    p.process.command_line = "true";
    p.network = NetworkSpec{};
    p.network->egress = egress_of(egress_json);
    return p;
}

Result<ClampOutcome> run(const Policy& p, const Ceiling& c, const Capabilities& caps = bwrap(),
                         std::vector<Cidr> hosts = {}) {
    ClampOptions o = lexical(PathStyle::posix);
    o.host_addresses = std::move(hosts);
    return clamp(p, c, caps, o);
}

std::string emitted(const ClampOutcome& out) { return to_json(out.policy.network.value().egress); }

const ClampDecision& decision(const ClampOutcome& out, const std::string& field) {
    const ClampDecision* d = out.report.find(field);
    REQUIRE_MESSAGE(d != nullptr, field);
    return *d;
}

Cidr cidr(const char* text) { return Cidr::parse(text).value(); }

}  // namespace

TEST_CASE("ceiling rules: the issue's example is granted exactly, reported as narrowed with what it became") {
    Ceiling c = ceiling_of(R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}]})");
    auto out = run(asking(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":443,"protocol":"tcp"}]}]})"), c);
    REQUIRE_MESSAGE(out.has_value(), out.error().to_string());
    const std::string want = R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":443,"protocol":"tcp"}]}]})";
    CHECK(emitted(*out) == want);
    const ClampDecision& d = decision(*out, "/network/egress/allow/0");
    CHECK(d.verdict == Verdict::narrowed);
    CHECK(d.reason == "narrowed to what the ceiling allows: partly outside the ceiling's egress allow rules");
    REQUIRE(d.result.size() == 1);
    CHECK(d.result[0].field == "/network/egress");
    CHECK(d.result[0].value == want);
    auto report = boost::json::parse(out->report.to_json());  // the report is JSON, the value JSON text
    CHECK(report.at("summary").at("narrowed") == 1);
}

TEST_CASE("ceiling rules: deny beats allow, except holes on both sides, and a rule outside is dropped") {
    Ceiling c = ceiling_of(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8","except":["10.8.0.0/16"]}]}],
                               "deny":[{"to":[{"cidr":"10.9.0.0/16"}]}]})");
    auto out = run(asking(R"({"allow":[{"to":[{"cidr":"10.0.0.0/12","except":["10.0.0.0/16"]}],"ports":[{"port":443,"protocol":"tcp"}]},
                                     {"to":[{"cidr":"10.9.1.0/24"}]},
                                     {"to":[{"cidr":"192.0.2.0/24"}]}]})"),
                   c);
    REQUIRE_MESSAGE(out.has_value(), out.error().to_string());
    CHECK(emitted(*out) == R"({"default":"deny","allow":[{"to":[{"cidr":"10.0.0.0/12","except":["10.0.0.0/16","10.8.0.0/15"]}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
    const ClampDecision& first = decision(*out, "/network/egress/allow/0");
    CHECK(first.verdict == Verdict::narrowed);
    CHECK(first.reason.find("partly inside the ceiling's egress deny rules") != std::string::npos);
    CHECK(first.reason.find("partly outside the ceiling's egress allow rules") != std::string::npos);  // the except hole
    CHECK(decision(*out, "/network/egress/allow/1").verdict == Verdict::dropped);
    CHECK(decision(*out, "/network/egress/allow/1").reason == "inside the ceiling's egress deny rules");
    CHECK(decision(*out, "/network/egress/allow/2").reason == "outside the ceiling's egress allow rules");
    // `network: allow` with deny rules: everything but the denied block.
    Ceiling open = ceiling_of(R"({"deny":[{"to":[{"cidr":"10.9.0.0/16"}]}]})", NetworkDefault::allow);
    auto all = run(asking(R"({"default":"allow"})"), open);
    REQUIRE(all.has_value());
    CHECK(emitted(*all) == R"({"default":"allow","deny":[{"to":[{"cidr":"10.9.0.0/16"}]}]})");
    CHECK(decision(*all, "/network/egress/default").verdict == Verdict::narrowed);
}

TEST_CASE("host addresses: never granted through a ceiling block that merely contains them; granted when named") {
    const std::vector<Cidr> hosts{cidr("198.51.100.1/32"), cidr("127.0.0.0/8"), cidr("2001:db8::1/128")};
    Capabilities caps = bwrap();
    caps.silent_peers = {};  // so that the IPv6 part can be granted and looked at
    Ceiling c = ceiling_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"},{"cidr":"2001:db8::/64"}],"ports":[{"port":18080,"protocol":"tcp"}]}]})");
    auto out = run(asking(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"},{"cidr":"2001:db8::/64"}],"ports":[{"port":18080,"protocol":"tcp"}]}]})"),
                   c, caps, hosts);
    REQUIRE_MESSAGE(out.has_value(), out.error().to_string());
    EgressSet g = set_of(out->policy.network->egress);
    CHECK_FALSE(g.admits(packet("198.51.100.1", Transport::tcp, 18080)));
    CHECK_FALSE(g.admits(packet("2001:db8::1", Transport::tcp, 18080)));
    CHECK(g.admits(packet("198.51.100.2", Transport::tcp, 18080)));
    CHECK(g.admits(packet("2001:db8::2", Transport::tcp, 18080)));
    const ClampDecision& d = decision(*out, "/network/egress/allow/0");
    CHECK(d.verdict == Verdict::narrowed);
    CHECK(d.reason.find("the host's own addresses (198.51.100.1/32, 2001:db8::1/128)") != std::string::npos);
    // Named with a peer of its own (and only on the ports that rule gives): granted.
    Ceiling named = ceiling_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"}],"ports":[{"port":18080,"protocol":"tcp"}]},
                                            {"to":[{"cidr":"198.51.100.1/32"}],"ports":[{"port":18080,"protocol":"tcp"}]}]})");
    auto ok = run(asking(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"}]}]})"), named, caps, hosts);
    REQUIRE(ok.has_value());
    EgressSet h = set_of(ok->policy.network->egress);
    CHECK(h.admits(packet("198.51.100.1", Transport::tcp, 18080)));
    CHECK_FALSE(h.admits(packet("198.51.100.1", Transport::tcp, 22)));
    // `allow` everywhere still keeps the unnamed host out: default allow with the host denied.
    Ceiling everything = ceiling_of("{}", NetworkDefault::allow);
    auto wide = run(asking(R"({"default":"allow"})"), everything, bwrap(), hosts);
    REQUIRE(wide.has_value());
    CHECK(emitted(*wide) == R"({"default":"allow","deny":[{"to":[{"cidr":"127.0.0.0/8"},{"cidr":"198.51.100.1/32"},{"cidr":"2001:db8::1/128"}]}]})");
    // The same with the list cordon really uses (detail::host_addresses: 0.0.0.0, ::, ::1 included),
    // where the denied set reaches the ends of the address axis: still default allow plus a short deny.
    std::vector<Cidr> real_hosts;
    for (const char* c : {"0.0.0.0/32", "127.0.0.0/8", "198.51.100.1/32", "::/128", "::1/128", "2001:db8::1/128"})
        real_hosts.push_back(cidr(c));
    auto real = run(asking(R"({"default":"allow"})"), everything, bwrap(), real_hosts);
    REQUIRE(real.has_value());
    CHECK(real->policy.network->egress.default_action == EgressDefault::allow);
    CHECK(real->policy.network->egress.deny.size() == 1);
    CHECK(real->policy.network->egress.allow.empty());
    EgressSet r = set_of(real->policy.network->egress);
    CHECK_FALSE(r.admits(packet("0.0.0.0", Transport::tcp, 80)));
    CHECK_FALSE(r.admits(packet("::", Transport::tcp, 80)));
    CHECK_FALSE(r.admits(packet("198.51.100.1", Transport::tcp, 80)));
    CHECK(r.admits(packet("198.51.100.2", Transport::tcp, 80)));
    // Where the backend enforces no rules there is nothing to exclude them with: left as asked.
    Capabilities legacy = capabilities_for(Backend::bubblewrap, "0.9.0", "0.6.0-alpha").value();
    auto old = run(asking(R"({"default":"allow"})"), everything, legacy, hosts);
    REQUIRE(old.has_value());
    CHECK(emitted(*old) == R"({"default":"allow"})");
}

TEST_CASE("silent blocks: a grant wholly inside 127.0.0.0/8, 10.0.2.2 or IPv6 on bubblewrap is refused, naming it") {
    Ceiling everything = ceiling_of("{}", NetworkDefault::allow);
    struct Case {
        const char* rule;
        const char* says;
    } cases[] = {{R"({"to":[{"cidr":"127.0.0.1"}],"ports":[{"port":8080,"protocol":"tcp"}]})", "127.0.0.0/8 is the sandbox's own loopback"},
                 {R"({"to":[{"cidr":"10.0.2.2/32"}]})", "10.0.2.2/32 is slirp4netns's address for the host"},
                 {R"({"to":[{"cidr":"2001:db8::7"}],"ports":[{"port":443}]})", "::/0 is IPv6, which the sandbox never routes"},
                 {R"({"to":[{"cidr":"::ffff:127.0.0.1/128"}]})", "127.0.0.0/8"}};
    for (const Case& k : cases) {
        CAPTURE(std::string(k.rule));
        auto out = run(asking(std::string(R"({"allow":[)") + k.rule + "]}"), everything);
        REQUIRE_FALSE(out.has_value());
        CHECK(out.error().code == ErrorCode::backend_unsupported);
        CHECK(out.error().where == "/network/egress/allow/0");
        CHECK(out.error().message.find(k.says) != std::string::npos);
        CHECK(out.error().message.find("would never be reached on bubblewrap") != std::string::npos);
    }
    // Partly silent is fine: the rest is reached (the silent part is inert, never wider).
    for (const char* rule : {R"({"to":[{"cidr":"10.0.2.0/24"}]})", R"({"ports":[{"port":443,"protocol":"tcp"}]})",
                             R"({"to":[{"cidr":"0.0.0.0/0"}]})"}) {
        CAPTURE(rule);
        auto out = run(asking(std::string(R"({"allow":[)") + rule + "]}"), everything);
        CHECK_MESSAGE(out.has_value(), (out ? "" : out.error().to_string()));
    }
    // A silent request the ceiling drops anyway is only dropped; deny rules are never refused.
    Ceiling narrow = ceiling_of(R"({"allow":[{"to":[{"cidr":"192.0.2.0/24"}]}]})");
    auto dropped = run(asking(R"({"allow":[{"to":[{"cidr":"127.0.0.1"}]}],"deny":[{"to":[{"cidr":"::1"}]}]})"), narrow);
    REQUIRE(dropped.has_value());
    CHECK(decision(*dropped, "/network/egress/allow/0").verdict == Verdict::dropped);
}

TEST_CASE("network off: nothing granted emits no rules at all (no slirp4netns), whatever the request's rules") {
    Policy p = asking(R"({"allow":[{"to":[{"cidr":"192.0.2.0/24"}]}],"deny":[{"to":[{"cidr":"192.0.2.7"}]}]})");
    for (const Ceiling& c : {ceiling_of("{}"), ceiling_of(R"({"deny":[{"to":[{"cidr":"0.0.0.0/0"}]}]})"),
                             ceiling_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"}]}]})")}) {
        auto out = run(p, c, bwrap(), {cidr("198.51.100.1/32")});
        REQUIRE_MESSAGE(out.has_value(), out.error().to_string());
        const Egress& e = out->policy.network.value().egress;
        CHECK(e.allow.empty());
        CHECK(e.deny.empty());
        CHECK(e.effective_default() == EgressDefault::deny);
        CHECK(decision(*out, "/network/egress/allow/0").verdict == Verdict::dropped);
    }
    Policy none;  // nothing asked under an open ceiling: nothing granted, no rules either
    none.process.command_line = "true";
    auto quiet = run(none, ceiling_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"}]}]})"), bwrap(), {cidr("198.51.100.1/32")});
    REQUIRE(quiet.has_value());
    CHECK(quiet->policy.network.value().egress.allow.empty());
    CHECK(quiet->policy.network.value().egress.deny.empty());
}

TEST_CASE("backends without egress rules: a ceiling's rules make a grant refused, never dropped to open or closed") {
    Capabilities legacy = capabilities_for(Backend::bubblewrap, "0.9.0", "0.6.0-alpha").value();
    auto out = run(asking(R"({"allow":[{"to":[{"cidr":"192.0.2.0/24"}]}]})"),
                   ceiling_of(R"({"allow":[{"to":[{"cidr":"192.0.2.0/24"}]}]})"), legacy);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == ErrorCode::backend_unsupported);
    CHECK(out.error().where == "/network/egress");
    // A ceiling of listed hosts (legacy) takes no rules: each one dropped with the reason.
    Ceiling hosts = ceiling_of("{}");
    hosts.allowed_hosts = {"example.com"};
    auto h = run(asking(R"({"allow":[{"to":[{"cidr":"192.0.2.0/24"}]}]})"), hosts, bwrap());
    REQUIRE(h.has_value());
    CHECK(decision(*h, "/network/egress/allow/0").reason == "the ceiling allows only its listed hosts, no egress rules");
}

TEST_CASE("--egress CIDR[:PORT[-ENDPORT]][/tcp|/udp]: every spelling, and errors that name the text") {
    struct Ok {
        const char* text;
        const char* rule;
    } oks[] = {
        {"10.1.0.0/16:443/tcp", R"({"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":443,"protocol":"tcp"}]})"},
        {"192.0.2.7:8000-8100", R"({"to":[{"cidr":"192.0.2.7/32"}],"ports":[{"port":8000,"endPort":8100}]})"},
        {"192.0.2.7", R"({"to":[{"cidr":"192.0.2.7/32"}]})"},
        {"198.51.100.0/24/udp", R"({"to":[{"cidr":"198.51.100.0/24"}],"ports":[{"protocol":"udp"}]})"},
        {"[2001:db8::7]:443", R"({"to":[{"cidr":"2001:db8::7/128"}],"ports":[{"port":443}]})"},
        {"2001:db8::/32:443/udp", R"({"to":[{"cidr":"2001:db8::/32"}],"ports":[{"port":443,"protocol":"udp"}]})"},
        {"2001:db8::7", R"({"to":[{"cidr":"2001:db8::7/128"}]})"},
        {"0.0.0.0/0:53", R"({"to":[{"cidr":"0.0.0.0/0"}],"ports":[{"port":53}]})"},
    };
    for (const Ok& k : oks) {
        CAPTURE(std::string(k.text));
        auto r = parse_egress_flag(k.text, "--egress");
        REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
        CHECK(to_json(*r) == k.rule);
    }
    struct Bad {
        const char* text;
        const char* says;
    } bads[] = {
        {"", "not an address or CIDR block"},
        {"example.com:443", "not an address or CIDR block"},
        {"10.0.0.1/8:443", "host part of address was not zero"},
        {"10.0.0.0/33", "too long"},
        {"192.0.2.7:0", "a port is a number from 1 to 65535"},
        {"192.0.2.7:65536", "a port is a number from 1 to 65535"},
        {"192.0.2.7:90-80", "the end port must not be below the port"},
        {"192.0.2.7:", "a ':' without a port"},
        {"[2001:db8::7:443", "a '[' without its ']'"},
        {"[2001:db8::7]443", "only :PORT may follow ']'"},
        {"192.0.2.7:443/sctp", "not an address or CIDR block"},
        {"192.0.2.7:443/TCP", "not an address or CIDR block"},
    };
    for (const Bad& k : bads) {
        CAPTURE(std::string(k.text));
        auto r = parse_egress_flag(k.text, "--egress");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::invalid_policy);
        CHECK(r.error().where == "--egress");
        CHECK(r.error().message.find(std::string("\"") + k.text + "\"") == 0);
        CHECK(r.error().message.find(k.says) != std::string::npos);
    }
}

TEST_CASE("ceiling file: network.egress.allow / deny in MXC 1.0's own rule shape, checked as the executor checks") {
    auto c = parse_ceiling(R"({"network":{"egress":{
        "allow":[{"to":[{"cidr":"10.1.0.0/16","except":["10.1.2.0/24"]}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"endPort":444}]}],
        "deny":[{"to":[{"cidr":"10.1.9.9"}]}]}}})",
                           CeilingOptions{PathStyle::posix, false});
    REQUIRE_MESSAGE(c.has_value(), c.error().to_string());
    CHECK(c->allows_network());
    CHECK(to_json(c->egress) == R"({"allow":[{"to":[{"cidr":"10.1.0.0/16","except":["10.1.2.0/24"]}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"endPort":444}]}],"deny":[{"to":[{"cidr":"10.1.9.9/32"}]}]})");
    struct Bad {
        const char* network;
        const char* where;
        const char* says;
    } bads[] = {
        {R"({"egress":{"allow":[{"to":[{"cidr":"10.0.0.1/8"}]}]}})", "/network/egress/allow/0/to/0/cidr", "host part of address was not zero"},
        {R"({"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8","except":["11.0.0.0/8"]}]}]}})", "/network/egress/allow/0/to/0/except/0", "must be contained within"},
        {R"({"egress":{"deny":[{"ports":[{"port":90,"endPort":80}]}]}})", "/network/egress/deny/0/ports/0/endPort", "greater than or equal"},
        {R"({"egress":{"allow":[{"to":[]}]}})", "/network/egress/allow/0/to", ""},
        {R"({"egress":{"allow":[{"to":[{"cidr":"::/0"}]}]}})", "/network/egress/allow/0", "::ffff:0:0/96"},
        {R"({"egress":{"default":"allow"}})", "/network/egress", ""},
        {R"({"defaultPolicy":"allow","egress":{"allow":[{}]}})", "/network/egress/allow", "would allow nothing more"},
        {R"({"allowedHosts":["example.com"],"egress":{"deny":[{}]}})", "/network/egress", "cannot be mixed"},
    };
    for (const Bad& k : bads) {
        CAPTURE(std::string(k.network));
        auto bad = parse_ceiling(std::string(R"({"network":)") + k.network + "}", CeilingOptions{PathStyle::posix, false});
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == ErrorCode::invalid_policy);
        CHECK(bad.error().where.find(k.where) == 0);
        CHECK(bad.error().message.find(k.says) != std::string::npos);
    }
    // `deny` alone under `allow`: everything but; under block: still nothing.
    auto open = parse_ceiling(R"({"network":{"defaultPolicy":"allow","egress":{"deny":[{"to":[{"cidr":"169.254.0.0/16"}]}]}}})",
                              CeilingOptions{PathStyle::posix, false});
    REQUIRE(open.has_value());
    CHECK(open->egress.deny.size() == 1);
    auto closed = parse_ceiling(R"({"network":{"egress":{"deny":[{}]}}})", CeilingOptions{PathStyle::posix, false});
    REQUIRE(closed.has_value());
    CHECK_FALSE(closed->allows_network());
}

TEST_CASE("ceiling environment: CORDON_EGRESS_ALLOW / _DENY take --egress grants separated by ','") {
    auto lookup = [](std::map<std::string, std::string> vars) {
        return [vars](const std::string& name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    };
    auto c = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                              lookup({{"CORDON_EGRESS_ALLOW", "10.1.0.0/16:443/tcp,192.0.2.7:53/udp"},
                                      {"CORDON_EGRESS_DENY", "10.1.2.0/24"}}));
    REQUIRE_MESSAGE(c.has_value(), c.error().to_string());
    CHECK(to_json(c->egress) == R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":443,"protocol":"tcp"}]},{"to":[{"cidr":"192.0.2.7/32"}],"ports":[{"port":53,"protocol":"udp"}]}],"deny":[{"to":[{"cidr":"10.1.2.0/24"}]}]})");
    auto bad = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                                lookup({{"CORDON_EGRESS_ALLOW", "10.1.0.0/16:443,,192.0.2.7"}}));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().where == "CORDON_EGRESS_ALLOW[1]");
    auto trailing = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                                     lookup({{"CORDON_EGRESS_DENY", "10.1.0.0/16,"}}));
    REQUIRE_FALSE(trailing.has_value());
    CHECK(trailing.error().where == "CORDON_EGRESS_DENY");
    auto both = ceiling_from_env("CORDON_", CeilingOptions{PathStyle::posix, false},
                                 lookup({{"CORDON_NETWORK", "allow"}, {"CORDON_EGRESS_ALLOW", "10.0.0.0/8"}}));
    REQUIRE_FALSE(both.has_value());
    CHECK(both.error().message.find("would allow nothing more") != std::string::npos);
}
