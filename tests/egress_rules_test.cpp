// SPDX-License-Identifier: MIT
// Egress rules: the executor's parse verdicts on corpus-1.0.0, its iptables translation and measured reachability
// against EgressSet, the set algebra, writing sets back as rules, and clamp_egress.
#include "cordon/egress_clamp.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "support/egress_helpers.hpp"

namespace fs = std::filesystem;
using namespace cordon;
using namespace cordon::test;

namespace {

fs::path shared_dir() {
    const char* shared = std::getenv("CORDON_SHARED_DIR");
    return fs::path(shared ? shared : "../shared");
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

#define SKIP_WITHOUT(path)                                                                   \
    if (!fs::exists(path)) {                                                                 \
        MESSAGE("SKIP: reference data not at " << (path) << " (set CORDON_SHARED_DIR)");    \
        return;                                                                              \
    }

struct Verdict10 {
    std::string parse;    // accept / reject
    std::string message;  // executor message for rejects
    std::string runner;   // dry-run runner message (refusals after parsing)
};

std::map<std::string, Verdict10> corpus_verdicts(const fs::path& dir) {
    std::map<std::string, Verdict10> out;
    std::ifstream in(dir / "parse-verdicts.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> cols;
        std::istringstream fields(line);
        for (std::string c; std::getline(fields, c, '\t');) cols.push_back(c);
        cols.resize(6);
        out[cols[0]] = {cols[1], cols[2], cols[5]};
    }
    return out;
}

// "Configuration parse error: Invalid one-shot request: Invalid configuration at `a.b[0]`: text at line 3 column 4"
// -> {"/a/b/0", "text"}; semantic messages ("a.b[0].cidr must be ...") keep their text and have no pointer.
std::pair<std::string, std::string> executor_error(std::string m) {
    const std::string lead = "Configuration parse error: ";
    if (m.rfind(lead, 0) == 0) m.erase(0, lead.size());
    const std::string serde = "Invalid one-shot request: Invalid configuration at `";
    if (m.rfind(serde, 0) != 0) return {"", m};
    auto end = m.find("`: ", serde.size());
    std::string path = m.substr(serde.size(), end - serde.size());
    std::string text = m.substr(end + 3);
    if (auto at = text.rfind(" at line "); at != std::string::npos) text.erase(at);
    std::string pointer = "/";
    for (char c : path) {
        if (c == '.' || c == '[') pointer += '/';
        else if (c != ']') pointer += c;
    }
    return {pointer, text};
}

// Unknown keys, nulls and other shape errors belong to the JSON layer, not to these checks.
bool is_shape_error(const std::string& message) {
    return message.find("unknown field") != std::string::npos || message.find("invalid type") != std::string::npos;
}

}  // namespace

TEST_CASE("corpus-1.0.0: every egress value the executor rejects is rejected here with its message, the rest accepted") {
    fs::path dir = shared_dir() / "reference" / "mxc" / "corpus-1.0.0";
    SKIP_WITHOUT(dir / "parse-verdicts.tsv");
    auto verdicts = corpus_verdicts(dir);
    REQUIRE(verdicts.size() >= 120);
    std::set<std::string> rejected_here, accepted_here;
    for (const auto& entry : verdicts) {  // (not a structured binding: the checks' lambdas capture these)
        const std::string& name = entry.first;
        const auto& v = entry.second;
        CAPTURE(name);
        boost::json::value doc;
        try {
            doc = boost::json::parse(slurp(dir / (name + ".json")));
        } catch (const std::exception&) {
            continue;  // JSON syntax files
        }
        const auto* network = doc.is_object() ? doc.as_object().if_contains("network") : nullptr;
        const auto* egress = network && network->is_object() ? network->as_object().if_contains("egress") : nullptr;
        if (!egress || !egress->is_object()) continue;
        auto ours = EgressReader().read(*egress, "/network/egress");
        auto [where, text] = executor_error(v.message);
        bool executor_egress_error = v.parse == "reject" && !is_shape_error(v.message) &&
                                     (where.rfind("/network/egress", 0) == 0 || text.rfind("network.egress", 0) == 0);
        if (executor_egress_error) {
            REQUIRE_MESSAGE(!ours.has_value(), v.message);
            const std::string& pointer = where;
            CHECK(ours.error().code == ErrorCode::invalid_policy);
            CHECK(ours.error().message == text);
            if (!pointer.empty()) CHECK(ours.error().where == pointer);
            else CHECK(text.rfind(detail::executor_path(ours.error().where), 0) == 0);  // names the same value
            rejected_here.insert(name);
        } else if (v.parse == "accept") {
            REQUIRE_MESSAGE(ours.has_value(), ours.error().to_string());
            accepted_here.insert(name);
            // The runner refuses IPv6 blocks that straddle ::ffff:0:0/96; so does the set algebra.
            bool runner_refuses = v.runner.find("IPv6 block shorter than /96") != std::string::npos;
            auto set = EgressSet::from_egress(*ours);
            CHECK_MESSAGE(set.has_value() != runner_refuses, v.runner);
            if (!set) CHECK(set.error().where == "/network/egress/allow/0/to/0/cidr");
        }
    }
    for (const auto& entry : verdicts) {
        const std::string& name = entry.first;
        bool ours = name.rfind("bad_cidr_", 0) == 0 || name.rfind("bad_port", 0) == 0 || name.rfind("bad_except", 0) == 0 ||
                    name.rfind("bad_endport", 0) == 0 || name.rfind("bad_icmp", 0) == 0 ||
                    name.rfind("bad_to_empty", 0) == 0 || name.rfind("bad_protocol", 0) == 0 ||
                    name.rfind("bad_egress_default", 0) == 0;
        if (ours) CHECK_MESSAGE(rejected_here.count(name) == 1, name);
    }
    CHECK(rejected_here.size() == 14);
    CHECK(accepted_here.size() >= 20);
    MESSAGE("corpus-1.0.0: " << rejected_here.size() << " egress rejects matched, " << accepted_here.size()
                             << " egress sections accepted");
}

namespace {

// One line of the executor's MXC_EGRESS chain: "-A MXC_EGRESS [-p P] [-d CIDR] [--dport A[:B]] -j ACCEPT|DROP".
struct IptRule {
    std::string protocol;  // "" = any
    std::optional<Cidr> destination;
    unsigned port_first = 0, port_last = 65535;
    bool has_port = false;
    bool accept = false;
};

std::vector<IptRule> egress_chain(const boost::json::array& lines) {
    std::vector<IptRule> out;
    for (const auto& l : lines) {
        std::istringstream words{std::string(l.as_string())};
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        if (w.size() < 2 || w[0] != "-A" || w[1] != "MXC_EGRESS") continue;
        IptRule r;
        bool skip = false;
        for (std::size_t i = 2; i + 1 < w.size(); i += 2) {
            if (w[i] == "-o") skip = true;  // "-o lo": the sandbox's own loopback
            else if (w[i] == "-p") r.protocol = w[i + 1];
            else if (w[i] == "-d") r.destination = Cidr::parse(w[i + 1]).value();
            else if (w[i] == "--dport") {
                r.has_port = true;
                auto colon = w[i + 1].find(':');
                r.port_first = static_cast<unsigned>(std::stoul(w[i + 1].substr(0, colon)));
                r.port_last = colon == std::string::npos ? r.port_first : static_cast<unsigned>(std::stoul(w[i + 1].substr(colon + 1)));
            } else if (w[i] == "-j") r.accept = w[i + 1] == "ACCEPT";
        }
        if (!skip) out.push_back(r);
    }
    return out;
}

bool chain_admits(const std::vector<IptRule>& chain, const Packet& p) {
    static const char* names[] = {"tcp", "udp", "icmp", "other"};
    std::string proto = names[static_cast<int>(p.transport)];
    if (proto == "icmp" && p.destination.family() == IpFamily::v6) proto = "icmpv6";
    for (const IptRule& r : chain) {
        if (!r.protocol.empty() && r.protocol != proto) continue;
        if (r.destination && !r.destination->contains(p.destination)) continue;
        if (r.has_port && (p.port < r.port_first || p.port > r.port_last)) continue;
        return r.accept;
    }
    return false;
}

// Destinations worth asking about: the edges of every block in the chains, their neighbours, probes.
std::vector<IpAddress> probe_addresses(const std::vector<IptRule>& v4, const std::vector<IptRule>& v6) {
    std::vector<IpAddress> out;
    for (const char* a : {"198.51.100.7", "198.51.100.8", "198.51.100.9", "1.1.1.1", "2001:db8::7", "::1", "2001:db8:1::5"})
        out.push_back(IpAddress::parse(a).value());
    for (const auto* chain : {&v4, &v6})
        for (const IptRule& r : *chain)
            if (r.destination) {
                IpAddress first = r.destination->first(), last = r.destination->last();
                out.push_back(first);
                out.push_back(last);
                auto shift = [&](IpAddress a, bool up) {
                    Uint128 v = up ? a.value().next() : a.value().prev();
                    return a.family() == IpFamily::v4 ? IpAddress::v4(static_cast<std::uint32_t>(v.lo)) : IpAddress::v6(v);
                };
                out.push_back(shift(first, false));
                out.push_back(shift(last, true));
            }
    return out;
}

}  // namespace

TEST_CASE("bwrap 1.0.1: EgressSet admits exactly what the executor's loaded iptables rules accept") {
    fs::path file = shared_dir() / "reference" / "mxc" / "bwrap-1.0.1-network.json";
    SKIP_WITHOUT(file);
    auto doc = boost::json::parse(slurp(file));
    int configs = 0, points = 0;
    for (const auto& entry : doc.at("iptables_rules_1.0.1_contract_1.0.0").as_array()) {
        const auto& e = entry.as_object();
        CAPTURE(std::string(e.at("label").as_string()));
        if (!e.at("runtimeConfig").is_null()) continue;  // proxy mode is not an egress rule set
        Egress egress;
        const auto* net = e.at("network").is_object() ? e.at("network").as_object().if_contains("egress") : nullptr;
        if (net) egress = EgressReader().read(*net, "/network/egress").value();
        auto set = EgressSet::from_egress(egress);
        if (e.at("rc").as_int64() != 0) {  // the runner's refusal of an IPv6 block straddling the mapped range
            CHECK_FALSE(set.has_value());
            continue;
        }
        REQUIRE(set.has_value());
        if (!e.contains("v4") || e.at("v4").is_null()) {  // ruleless: --unshare-net, nothing leaves
            CHECK(set->empty());
            continue;
        }
        auto v4 = egress_chain(e.at("v4").as_array());
        auto v6 = egress_chain(e.at("v6").as_array());
        ++configs;
        for (const IpAddress& a : probe_addresses(v4, v6)) {
            if (a == IpAddress::parse("10.0.2.2").value()) continue;  // always dropped: the host-loopback alias
            for (Transport t : {Transport::tcp, Transport::udp, Transport::icmp, Transport::other})
                for (std::uint16_t port : {0, 1, 22, 53, 80, 443, 5353, 8079, 8080, 8081, 9089, 9090, 9095, 9096, 65535}) {
                    Packet p{a, t, port};
                    bool want = chain_admits(a.family() == IpFamily::v4 ? v4 : v6, p);
                    CHECK_MESSAGE(set->admits(p) == want, a.str(), " ", static_cast<int>(t), " ", port);
                    CHECK(naive_admits(egress, p) == want);  // and the reference evaluator agrees
                    ++points;
                }
        }
    }
    CHECK(configs >= 15);
    MESSAGE("iptables translation: " << configs << " configs, " << points << " packets compared");
}

TEST_CASE("bwrap 1.0.1: every measured connection matches EgressSet (OK = admitted, timeout/EPERM/unreachable = not)") {
    fs::path file = shared_dir() / "reference" / "mxc" / "bwrap-1.0.1-network.json";
    SKIP_WITHOUT(file);
    auto doc = boost::json::parse(slurp(file));
    int probes = 0;
    for (const auto& entry : doc.at("reachability_1.0.1_contract_1.0.0").as_array()) {
        const auto& r = entry.as_object();
        CAPTURE(std::string(r.at("label").as_string()));
        if (!r.at("runtimeConfig").is_null()) continue;
        Egress egress;
        const auto& cfg = r.at("config_network");
        if (cfg.is_object())
            if (const auto* e = cfg.as_object().if_contains("egress")) egress = EgressReader().read(*e, "/network/egress").value();
        EgressSet set = set_of(egress);
        for (const auto& probe : r.at("probe").as_object()) {
            std::string k(probe.key());
            const boost::json::value& value = probe.value();
            bool tcp = k.rfind("tcp 198.51.100.", 0) == 0, udp = k.rfind("udp 198.51.100.", 0) == 0;
            if (!tcp && !udp) continue;  // loopback, 10.0.2.2, IPv6 (never routed) and DNS are not egress rules
            auto colon = k.rfind(':');
            Packet p = packet(k.substr(4, colon - 4), tcp ? Transport::tcp : Transport::udp,
                              static_cast<std::uint16_t>(std::stoi(k.substr(colon + 1))));
            bool ok = value.is_string() && std::string(value.as_string()).rfind("OK", 0) == 0;
            CHECK_MESSAGE(set.admits(p) == ok, k, " -> ", boost::json::serialize(value));
            ++probes;
        }
    }
    CHECK(probes >= 80);
}

TEST_CASE("rule semantics: protocol any with a port is tcp+udp, without a port every protocol; except holes; mapped peers") {
    EgressSet any_port = set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.7/32"}],"ports":[{"port":53}]}]})");
    CHECK(any_port.admits(packet("198.51.100.7", Transport::tcp, 53)));
    CHECK(any_port.admits(packet("198.51.100.7", Transport::udp, 53)));
    CHECK_FALSE(any_port.admits(packet("198.51.100.7", Transport::icmp)));
    CHECK_FALSE(any_port.admits(packet("198.51.100.7", Transport::tcp, 54)));
    EgressSet any = set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.7/32"}],"ports":[{"protocol":"any"}]}]})");
    CHECK(any.admits(packet("198.51.100.7", Transport::other)));
    CHECK(any.admits(packet("198.51.100.7", Transport::tcp, 0)));
    CHECK(any == set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.7"}]}]})"));
    EgressSet hole = set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24","except":["198.51.100.8/32"]}]}]})");
    CHECK(hole.admits(packet("198.51.100.7", Transport::udp, 9)));
    CHECK_FALSE(hole.admits(packet("198.51.100.8", Transport::udp, 9)));
    CHECK(hole.admits(packet("::ffff:198.51.100.9", Transport::udp, 9)));  // mapped destination = IPv4
    CHECK(set_of(R"({"allow":[{"to":[{"cidr":"::ffff:198.51.100.0/120"}]}]})") ==
          set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24"}]}]})"));
    CHECK(set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24","except":["198.51.100.0/24"]}]}]})").empty());
    EgressSet open = set_of(R"({"allow":[{}]})");
    CHECK(open.is_everything());
    CHECK(open == set_of(R"({"default":"allow"})"));
    CHECK(open.admits(packet("2001:db8::7", Transport::other)));
    CHECK(set_of(R"({"default":"allow","allow":[{"ports":[{"protocol":"icmp"}]}]})").is_everything());
    // deny wins over allow, whatever the order
    EgressSet d = set_of(R"({"allow":[{"to":[{"cidr":"198.51.100.7/32"}]}],"deny":[{"ports":[{"port":8080,"protocol":"tcp"}]}]})");
    CHECK_FALSE(d.admits(packet("198.51.100.7", Transport::tcp, 8080)));
    CHECK(d.admits(packet("198.51.100.7", Transport::tcp, 9090)));
    CHECK(d.admits(packet("198.51.100.7", Transport::udp, 8080)));
    CHECK(d.overlaps(Cidr::parse("198.51.100.0/24").value()));
    CHECK(d.overlaps(Cidr::parse("::ffff:198.51.100.7/128").value()));
    CHECK_FALSE(d.overlaps(Cidr::parse("198.51.100.8/32").value()));
    CHECK_FALSE(d.overlaps(Cidr::parse("2001:db8::/32").value()));
}

TEST_CASE("rule checks: refusals name the value; IPv6 blocks straddling ::ffff:0:0/96 are refused like the runner does") {
    auto straddle = EgressSet::from_egress(egress_of(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"},{"cidr":"::/80"}]}]})"));
    REQUIRE_FALSE(straddle.has_value());
    CHECK(straddle.error().where == "/network/egress/allow/0/to/1/cidr");
    CHECK(straddle.error().message.find("'::/80' is an IPv6 block shorter than /96") != std::string::npos);
    CHECK(EgressSet::from_egress(egress_of(R"({"allow":[{"to":[{"cidr":"::/81"}]}]})")).has_value());
    CHECK(EgressSet::from_egress(egress_of(R"({"allow":[{"to":[{"cidr":"::fffe:0:0/95"}]}]})")).has_value() == false);
    CHECK(EgressSet::from_egress(egress_of(R"({"deny":[{"to":[{"cidr":"::/0"}]}]})")).has_value() == false);

    EgressRule empty_to{std::vector<Peer>{}, std::nullopt};  // never "everything"
    auto e = EgressSet::from_rule(empty_to, "/x");
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().where == "/x/to");
    EgressRule icmp_port{std::nullopt, std::vector<PortSpec>{PortSpec::single(Protocol::icmp, 1)}};
    CHECK(check_rule(icmp_port, "/network/egress/allow/3").error().message ==
          "network.egress.allow[3].ports[0] cannot specify port or endPort for protocol='icmp'");
    EgressRule reversed{std::nullopt, std::vector<PortSpec>{PortSpec::range(Protocol::tcp, 9, 5)}};
    CHECK_FALSE(EgressSet::from_rule(reversed).has_value());
    Peer outside{Cidr::parse("10.0.0.0/8").value(), {Cidr::parse("11.0.0.0/8").value()}};
    CHECK(check_rule(EgressRule{std::vector<Peer>{outside}, std::nullopt}, "/r").error().where == "/r/to/0/except/0");

    CHECK(make_port_spec(70000, std::nullopt, std::nullopt, "/p").error().message ==
          "invalid value: integer `70000`, expected a nonzero u16");
    CHECK(make_port_spec(5, 5, std::string_view("udp"), "/p").value() == PortSpec::single(Protocol::udp, 5));
    CHECK(make_port_spec(std::nullopt, std::nullopt, std::string_view("TCP"), "/p").error().where == "/p/protocol");
    // value errors (serde, stage 2 of the executor) come before the port-range rules (stage 6)
    CHECK(make_port_spec(10, 5, std::string_view("sctp"), "/p").error().where == "/p/protocol");
    CHECK(make_port_spec(10, 5, std::string_view("icmp"), "/p").error().message == "p.endPort must be greater than or equal to port");
    CHECK(make_port_spec(std::nullopt, 5, std::string_view("icmp"), "/p").error().message == "p.endPort requires port");
    CHECK(make_peer(std::string_view("10.0.0.0/8"), {"10.0.0.0/8", "10.1.0.0/16"}, "/t").value().except.size() == 2);
    // Orders measured with lxc-exec 0.9.0 --dry-run (same parser as 1.0.1): every except is parsed
    // before containment is checked; peers, then rules, one after the other; a rule's `to` before its
    // `ports`; value errors of a port entry before its range rules.
    CHECK(make_peer(std::string_view("10.0.0.0/8"), {"11.0.0.0/8", "10.1.0.1/16"}, "/network/egress/allow/0/to/0")
              .error()
              .message == "network.egress.allow[0].to[0].except[1] must be a valid network CIDR: host part of address was not zero");
    CHECK(make_peer(std::string_view("10.0.0.0/8"), {"::ffff:10.1.0.0/112"}, "/t").error().where == "/t/except/0");
    CHECK(make_peer(std::string_view("::ffff:10.0.0.0/104"), {"10.1.0.0/16"}, "/t").error().where == "/t/except/0");
    auto order = egress_from_json(R"({"deny":[{"to":[{"cidr":"x"}]}],
        "allow":[{"to":[{"cidr":"10.0.0.0/8","except":["11.0.0.0/8"]},{"cidr":"y"}],"ports":[{"endPort":5}]}]})");
    REQUIRE_FALSE(order.has_value());
    CHECK(order.error().where == "/network/egress/allow/0/to/0/except/0");
    CHECK(detail::executor_path("/network/egress/allow/0/to/12/except/3") == "network.egress.allow[0].to[12].except[3]");
}

TEST_CASE("set algebra: small identities with exact results") {
    EgressSet a = set_of(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":80,"endPort":90,"protocol":"tcp"}]}]})");
    EgressSet b = set_of(R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":85,"endPort":100}]}]})");
    EgressSet both = set_of(R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":85,"endPort":90,"protocol":"tcp"}]}]})");
    CHECK((a & b) == both);
    CHECK((b & a) == both);
    CHECK(((a - b) | (a & b)) == a);
    CHECK(((a - b) & b).empty());
    CHECK((a | b).admits(packet("10.1.2.3", Transport::udp, 100)));
    CHECK_FALSE((a | b).admits(packet("10.2.2.3", Transport::udp, 100)));
    CHECK(both.subset_of(a));
    CHECK_FALSE(a.subset_of(b));
    CHECK(a.intersects(b));
    CHECK_FALSE(a.intersects(set_of(R"({"allow":[{"ports":[{"protocol":"udp"}]}]})")));
    CHECK((EgressSet::everything() - EgressSet::everything()).empty());
    CHECK((EgressSet{} | a) == a);
    CHECK(((a | b) - b) == (a - b));
    CHECK(a != b);
}

TEST_CASE("writing sets back: compact rules, except where it is shorter, default allow with denies where that is") {
    auto text = [](const char* json) { return to_json(set_of(json).to_egress()); };
    CHECK(text(R"({"allow":[{"to":[{"cidr":"198.51.100.0/24","except":["198.51.100.8/32"]}],"ports":[{"port":443,"protocol":"tcp"}]}]})") ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"198.51.100.0/24","except":["198.51.100.8/32"]}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
    CHECK(text(R"({"default":"allow","deny":[{"to":[{"cidr":"10.0.0.0/8"}]}]})") ==
          R"({"default":"allow","deny":[{"to":[{"cidr":"10.0.0.0/8"}]}]})");
    CHECK(text(R"({"default":"allow","deny":[{"ports":[{"port":22,"protocol":"tcp"}]}]})") ==
          R"({"default":"allow","deny":[{"ports":[{"port":22,"protocol":"tcp"}]}]})");
    CHECK(text(R"({"allow":[{"to":[{"cidr":"10.0.0.0/24"},{"cidr":"10.0.1.0/24"}],"ports":[{"port":80,"protocol":"tcp"},{"port":81,"protocol":"tcp"},{"port":80,"protocol":"udp"}]}]})") ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"10.0.0.0/23"}],"ports":[{"port":80},{"port":81,"protocol":"tcp"}]}]})");
    CHECK(text(R"({"allow":[{"to":[{"cidr":"::ffff:10.0.0.0/104"},{"cidr":"2001:db8::/32"}],"ports":[{"protocol":"icmp"}]}]})") ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"10.0.0.0/8"},{"cidr":"2001:db8::/32"}],"ports":[{"protocol":"icmp"}]}]})");
    CHECK(text(R"({"default":"deny"})") == R"({"default":"deny"})");
    CHECK(text(R"({"allow":[{}]})") == R"({"default":"allow"})");
    // every destination but one block: the IPv6 side cannot be ::/0 (the runner refuses it), so it
    // is written as the blocks around ::ffff:0:0/96, and IPv4 as 0.0.0.0/0 except 10.0.0.0/8
    Egress most = set_of(R"({"allow":[{"ports":[{"protocol":"udp"}]}],"deny":[{"to":[{"cidr":"10.0.0.0/8"}]}]})").to_egress();
    REQUIRE(most.allow.size() == 1);
    REQUIRE(most.allow[0].to.has_value());
    CHECK(to_json(most.allow[0].to->front()) == R"({"cidr":"0.0.0.0/0","except":["10.0.0.0/8"]})");
    for (const Peer& p : *most.allow[0].to) CHECK_FALSE(detail::straddles_mapped(p.cidr));
    CHECK(set_of(most) == set_of(R"({"allow":[{"ports":[{"protocol":"udp"}]}],"deny":[{"to":[{"cidr":"10.0.0.0/8"}]}]})"));
    // tcp port 0 is only reachable as "tcp" without a port: tcp minus 5..65535 needs a deny rule
    EgressSet low = set_of(R"({"allow":[{"ports":[{"protocol":"tcp"}]}],"deny":[{"ports":[{"port":5,"endPort":65535}]}]})");
    CHECK(low.admits(packet("1.2.3.4", Transport::tcp, 0)));
    CHECK(set_of(low.to_egress()) == low);
}

TEST_CASE("writing sets back: what no MXC rule can say is left out, and only that") {
    // every protocol except tcp, but tcp 80: deny wins in MXC, so "other protocols" must go
    EgressSet odd = (EgressSet::everything() - set_of(R"({"allow":[{"ports":[{"protocol":"tcp"}]}]})")) |
                    set_of(R"({"allow":[{"ports":[{"port":80,"protocol":"tcp"}]}]})");
    CHECK(odd.admits(packet("1.2.3.4", Transport::other)));
    CHECK_FALSE(odd.expressible());
    EgressSet said = set_of(odd.to_egress());
    CHECK(said == odd.expressible_part());
    CHECK(said.subset_of(odd));
    CHECK(said.admits(packet("1.2.3.4", Transport::tcp, 80)));
    CHECK(said.admits(packet("1.2.3.4", Transport::icmp)));
    CHECK_FALSE(said.admits(packet("1.2.3.4", Transport::other)));
}

TEST_CASE("clamp_egress: narrowing, dropping, default allow and ceiling denies, with reasons") {
    Egress ceiling = egress_of(R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}],
                                  "deny":[{"to":[{"cidr":"10.1.2.0/24"}]}]})");
    Egress request = egress_of(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":443,"protocol":"tcp"}]},
                                            {"to":[{"cidr":"10.1.3.0/24"}],"ports":[{"port":80,"protocol":"tcp"}]},
                                            {"to":[{"cidr":"10.1.2.0/24"}]},
                                            {"to":[{"cidr":"192.0.2.0/24"}]}],
                                  "deny":[{"to":[{"cidr":"10.1.3.7"}]}]})");
    auto out = clamp_egress(request, ceiling);
    REQUIRE(out.has_value());
    CHECK(to_json(out->egress) ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16","except":["10.1.2.0/23"]}],"ports":[{"port":443,"protocol":"tcp"}]},{"to":[{"cidr":"10.1.3.0/24","except":["10.1.3.7/32"]}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}]})");
    REQUIRE(out->decisions.size() == 5);
    const auto& d = out->decisions;
    CHECK(d[0].field == "/network/egress/allow/0");
    CHECK(d[0].requested == R"({"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":443,"protocol":"tcp"}]})");
    CHECK(d[0].verdict == Verdict::narrowed);
    CHECK(d[0].reason == "narrowed to what the ceiling allows: partly outside the ceiling's egress allow rules; partly "
                         "inside the ceiling's egress deny rules");
    CHECK(to_json(d[0].granted) ==
          R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16","except":["10.1.2.0/24","10.1.3.7/32"]}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
    CHECK(d[1].verdict == Verdict::kept);  // minus its own deny of 10.1.3.7, all within the ceiling
    CHECK(d[1].reason.empty());
    CHECK(d[2].verdict == Verdict::dropped);
    CHECK(d[2].reason == "inside the ceiling's egress deny rules");
    CHECK(d[3].verdict == Verdict::dropped);
    CHECK(d[3].reason == "outside the ceiling's egress allow rules");
    CHECK(d[3].granted == Egress{});
    CHECK(d[4].field == "/network/egress/deny/0");
    CHECK(d[4].verdict == Verdict::kept);

    // The brief's example, and default allow becoming exactly the ceiling.
    Egress small_ceiling = egress_of(R"({"allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}]})");
    auto one = clamp_egress(egress_of(R"({"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"port":443,"protocol":"tcp"}]}]})"), small_ceiling);
    REQUIRE(one.has_value());
    CHECK(to_json(one->egress) == R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":443,"protocol":"tcp"}]}]})");
    auto open = clamp_egress(egress_of(R"({"default":"allow"})"), small_ceiling);
    REQUIRE(open.has_value());
    CHECK(open->granted == set_of(small_ceiling));
    CHECK(to_json(open->egress) == R"({"default":"deny","allow":[{"to":[{"cidr":"10.1.0.0/16"}],"ports":[{"port":80,"protocol":"tcp"},{"port":443,"protocol":"tcp"}]}]})");
    REQUIRE(open->decisions.size() == 1);
    CHECK(open->decisions[0].field == "/network/egress/default");
    CHECK(open->decisions[0].verdict == Verdict::narrowed);
    auto all = clamp_egress(egress_of(R"({"default":"allow","deny":[{"ports":[{"protocol":"icmp"}]}]})"),
                            egress_of(R"({"default":"allow"})"));
    REQUIRE(all.has_value());
    CHECK(all->decisions[0].verdict == Verdict::kept);
    CHECK(to_json(all->egress) == R"({"default":"allow","deny":[{"ports":[{"protocol":"icmp"}]}]})");

    auto bad = clamp_egress(Egress{}, egress_of(R"({"allow":[{"to":[{"cidr":"::/0"}]}]})"));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.rfind("ceiling: ", 0) == 0);
}

TEST_CASE("scale: 1,000-rule ceilings and requests give exact, linear-size results") {
    auto hosts = [](int n, int port, const char* proto) {
        Egress e;
        for (int i = 0; i < n; ++i) {
            std::string a = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".7";
            e.allow.push_back(EgressRule{std::vector<Peer>{Peer{Cidr::parse(a).value(), {}}},
                                         std::vector<PortSpec>{make_port_spec(port, std::nullopt, std::string_view(proto), "/p").value()}});
        }
        return e;
    };
    Egress ports;  // one CIDR, 1,000 ports (as 1,000 rules)
    for (int i = 0; i < 1000; ++i)
        ports.allow.push_back(EgressRule{std::vector<Peer>{Peer{Cidr::parse("10.0.0.0/8").value(), {}}},
                                         std::vector<PortSpec>{PortSpec::single(Protocol::tcp, static_cast<std::uint16_t>(400 + 2 * i))}});
    Egress request = hosts(1000, 442, "tcp");
    Egress ceiling = hosts(1000, 442, "any");
    auto start = std::chrono::steady_clock::now();
    auto same = clamp_egress(request, ceiling);
    auto mixed = clamp_egress(request, ports);
    auto wide = clamp_egress(ports, ceiling);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(same.has_value());
    REQUIRE(mixed.has_value());
    REQUIRE(wide.has_value());
    CHECK(same->granted == set_of(request));
    CHECK(same->decisions.size() == 1000);
    CHECK(same->granted.slab_count() == 1000);
    CHECK(mixed->granted == set_of(request));  // 442 is one of the 1,000 even ports from 400
    CHECK(mixed->granted.span_count() == 1000);
    CHECK(wide->granted == set_of(request));
    CHECK(wide->decisions[21].verdict == Verdict::narrowed);  // port 442 on 10.0.0.0/8: the 1,000 hosts of it
    CHECK(wide->decisions[20].verdict == Verdict::dropped);   // port 440: none
    CHECK(set_of(ports).slab_count() == 1);
    CHECK(set_of(ports).span_count() == 1000);
    MESSAGE("three clamps of 1,000 x 1,000 rules: " << ms << " ms (not a timing test; see the report)");
}

TEST_CASE("scale: a rule set whose exact form explodes is refused with an error, not run out of memory") {
    // one /8 with 1,100 ports, crossed by 1,000 hosts inside it with another port each: every host
    // run then carries 1,101 port spans, over the 1M-piece limit
    std::vector<EgressRule> rules;
    EgressRule wide{std::vector<Peer>{Peer{Cidr::parse("10.0.0.0/8").value(), {}}}, std::vector<PortSpec>{}};
    for (int i = 0; i < 1100; ++i) wide.ports->push_back(PortSpec::single(Protocol::tcp, static_cast<std::uint16_t>(1 + 2 * i)));
    rules.push_back(wide);
    for (int i = 0; i < 1000; ++i)
        rules.push_back(EgressRule{std::vector<Peer>{Peer{Cidr::host(IpAddress::v4(0x0a000000u + 4u * static_cast<std::uint32_t>(i))), {}}},
                                   std::vector<PortSpec>{PortSpec::single(Protocol::tcp, static_cast<std::uint16_t>(2 + 2 * i))}});
    auto s = EgressSet::from_rules(rules, "/network/egress/allow");
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::invalid_policy);
    CHECK(s.error().where == "/network/egress/allow");
    CHECK(s.error().message.find("too complex") != std::string::npos);
    rules.resize(500);  // half of it is fine
    auto half = EgressSet::from_rules(rules);
    CHECK_MESSAGE(half.has_value(), half.error().to_string());
}
