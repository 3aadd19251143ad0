// SPDX-License-Identifier: MIT
// IP addresses and CIDRs: the executor's parser (expected values measured against Rust 1.95 std + crate cidr 0.3 logic), RFC 5952 text, covers.
#include "cordon/cidr.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "cordon/ip_address.hpp"

using namespace cordon;

namespace {

std::string reason_of(const std::string& text) {
    Cidr c;
    std::string reason;
    return detail::parse_cidr_executor(text, c, reason) ? "ok " + c.str() : reason;
}

const std::string bad_address = "couldn't parse address in network: invalid IP address syntax";

}  // namespace

TEST_CASE("addresses: accepted exactly as Rust's IpAddr::from_str accepts them") {
    // input -> canonical text; each pair was checked against Rust 1.95 (see the report of the egress branch).
    const std::vector<std::pair<std::string, std::string>> good{
        {"198.51.100.7", "198.51.100.7"},     {"0.0.0.0", "0.0.0.0"},
        {"255.255.255.255", "255.255.255.255"}, {"::", "::"},
        {"::1", "::1"},                         {"1::", "1::"},
        {"ABCD::EF", "abcd::ef"},               {"0001::", "1::"},
        {"::0:0:0", "::"},                      {"0:0:0:0:0:0:0:0", "::"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"}, {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"}, {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"::1.2.3.4", "::102:304"},             {"::ffff:198.51.100.7", "::ffff:198.51.100.7"},
        {"::ffff:c633:6407", "::ffff:198.51.100.7"}, {"64:ff9b::1.2.3.4", "64:ff9b::102:304"},
        {"abcd:0:0:1:0:0:0:1", "abcd:0:0:1::1"}, {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
        {"0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"},   {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:0:0:1:0:0:0:0", "2001:0:0:1::"}, {"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
    };
    for (const auto& pair : good) {  // (not a structured binding: C++17 lambdas, CAPTURE's, cannot capture one)
        const auto& in = pair.first;
        const auto& out = pair.second;
        CAPTURE(in);
        auto a = IpAddress::parse(in);
        REQUIRE(a.has_value());
        CHECK(a->str() == out);
        CHECK(IpAddress::parse(a->str()).value() == *a);
    }
    const std::vector<std::string> bad{
        "",          " 1.2.3.4",  "1.2.3.4 ",     "010.0.0.0",  "00.0.0.0",   "1.2.3.04",  "256.0.0.0",
        "1.2.3",     "1.2.3.4.5", "1.2.3.",       "10",         "0x7f.0.0.1", "example.com", "[::1]",
        "::1%1",     "fe80::1%eth0", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:1.2.3.4", "1.2.3.4::", "1::2::3",
        ":1::",      "1:::2",     "12345::",      "::ffff:010.0.0.1", "::1.2.3",  "1:2:3:4:5:6:7:8:9", ":",
        "1:2:3:4:5:6:7", "::g",   "1.2.3.4/32",   "\xef\xbc\x91.2.3.4"};
    for (const auto& in : bad) {
        CAPTURE(in);
        auto a = IpAddress::parse(in);
        REQUIRE_FALSE(a.has_value());
        CHECK(a.error().code == ErrorCode::invalid_policy);
        CHECK(a.error().message.find("'" + in + "'") != std::string::npos);
    }
}

TEST_CASE("addresses: IPv4-mapped IPv6 is kept as written, unmapped() is the executor's IPv4 address") {
    auto m = IpAddress::parse("::ffff:198.51.100.7").value();
    CHECK(m.family() == IpFamily::v6);
    CHECK(m.is_v4_mapped());
    CHECK(m.unmapped() == IpAddress::parse("198.51.100.7").value());
    CHECK_FALSE(IpAddress::parse("::198.51.100.7").value().is_v4_mapped());  // IPv4-compatible is not mapped
    CHECK(IpAddress::parse("::1").value().unmapped() == IpAddress::parse("::1").value());
    CHECK(IpAddress::v4(1) < IpAddress::v6(Uint128{}));
}

TEST_CASE("CIDRs: the executor's verdicts and reasons (crate cidr 0.3 over Rust's parsers)") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"10.0.0.0/8", "ok 10.0.0.0/8"},
        {"198.51.100.7", "ok 198.51.100.7/32"},
        {"::ffff:198.51.100.7", "ok ::ffff:198.51.100.7/128"},
        {"::ffff:198.51.100.7/128", "ok ::ffff:198.51.100.7/128"},
        {"::ffff:0:0/96", "ok ::ffff:0.0.0.0/96"},
        {"2001:db8::/32", "ok 2001:db8::/32"},
        {"::/0", "ok ::/0"},
        {"0.0.0.0/0", "ok 0.0.0.0/0"},
        {"10.0.0.0/+8", "ok 10.0.0.0/8"},  // Rust's u8::from_str takes a '+'
        {"10.0.0.0/08", "ok 10.0.0.0/8"},
        {"10.0.0.0/0008", "ok 10.0.0.0/8"},
        {"010.0.0.0/8", bad_address},
        {" 10.0.0.0/8", bad_address},
        {"example.com", bad_address},
        {"10/8", bad_address},  // no short forms since cidr 0.3
        {"10.0.0.0/1/8", bad_address},
        {"/8", bad_address},
        {"", bad_address},
        {"10.0.0.0/8 ", "couldn't parse length in network: invalid digit found in string"},
        {"10.0.0.0/", "couldn't parse length in network: cannot parse integer from empty string"},
        {"10.0.0.0/x", "couldn't parse length in network: invalid digit found in string"},
        {"10.0.0.0/+", "couldn't parse length in network: invalid digit found in string"},
        {"10.0.0.0/-8", "couldn't parse length in network: invalid digit found in string"},
        {"10.0.0.0/256", "couldn't parse length in network: number too large to fit in target type"},
        {"10.0.0.0/33", "invalid length for network: Network length 33 is too long for Ipv4 (maximum: 32)"},
        {"::/129", "invalid length for network: Network length 129 is too long for Ipv6 (maximum: 128)"},
        {"10.0.0.1/8", "host part of address was not zero"},
        {"fe80::1/64", "host part of address was not zero"},
        {"1.2.3.4/33", "invalid length for network: Network length 33 is too long for Ipv4 (maximum: 32)"},
    };
    for (const auto& pair : cases) {
        const auto& in = pair.first;
        const auto& want = pair.second;
        CAPTURE(in);
        CHECK(reason_of(in) == want);
    }
}

TEST_CASE("CIDRs: public parse names the input and says what is wrong") {
    auto host_bits = Cidr::parse("10.0.0.1/8");
    REQUIRE_FALSE(host_bits.has_value());
    CHECK(host_bits.error().code == ErrorCode::invalid_policy);
    CHECK(host_bits.error().message == "'10.0.0.1/8' is not a valid network CIDR: host part of address was not zero");
    CHECK(host_bits.error().where == "10.0.0.1/8");
    auto made = Cidr::make(IpAddress::parse("10.0.0.1").value(), 8);
    REQUIRE_FALSE(made.has_value());
    CHECK(made.error().message == "host bits of 10.0.0.1/8 are set (the network is 10.0.0.0/8)");
    auto too_long = Cidr::make(IpAddress::parse("::").value(), 129);
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error().message == "prefix length 129 is too long for IPv6 (maximum 128)");
}

TEST_CASE("CIDRs: containment is per family; mapped blocks unmap to IPv4 rules") {
    Cidr eight = Cidr::parse("10.0.0.0/8").value();
    CHECK(eight.contains(Cidr::parse("10.1.0.0/16").value()));
    CHECK(eight.contains(eight));
    CHECK_FALSE(Cidr::parse("10.1.0.0/16").value().contains(eight));
    CHECK_FALSE(eight.contains(Cidr::parse("11.0.0.0/8").value()));
    CHECK_FALSE(eight.contains(Cidr::parse("::ffff:10.1.0.0/112").value()));  // the executor: other family
    CHECK_FALSE(Cidr::parse("::/0").value().contains(IpAddress::parse("10.0.0.1").value()));
    CHECK(eight.contains(IpAddress::parse("10.255.255.255").value()));
    CHECK_FALSE(eight.contains(IpAddress::parse("11.0.0.0").value()));
    CHECK(eight.last() == IpAddress::parse("10.255.255.255").value());
    CHECK(Cidr::parse("::ffff:198.51.100.0/120").value().unmapped() == Cidr::parse("198.51.100.0/24").value());
    CHECK(Cidr::parse("::ffff:0:0/96").value().unmapped() == Cidr::parse("0.0.0.0/0").value());
    CHECK_FALSE(Cidr::parse("::/95").value().is_v4_mapped());
    CHECK(Cidr::parse("::/0").value().last() == IpAddress::v6(Uint128::max()));
}

TEST_CASE("CIDR cover: the executor's except split, and exactness and minimality on random ranges") {
    auto ip = [](const char* s) { return IpAddress::parse(s).value(); };
    // 198.51.100.0/24 except .8/32: the executor emits exactly these eight blocks (mxc-1.0.md 7.2).
    std::vector<std::string> got;
    for (const Cidr& c : cidr_cover({ip("198.51.100.0"), ip("198.51.100.7")})) got.push_back(c.str());
    for (const Cidr& c : cidr_cover({ip("198.51.100.9"), ip("198.51.100.255")})) got.push_back(c.str());
    CHECK(got == std::vector<std::string>{"198.51.100.0/29", "198.51.100.9/32", "198.51.100.10/31", "198.51.100.12/30",
                                          "198.51.100.16/28", "198.51.100.32/27", "198.51.100.64/26",
                                          "198.51.100.128/25"});
    CHECK(cidr_cover({ip("::"), IpAddress::v6(Uint128::max())}).size() == 1);
    CHECK(cidr_cover({ip("0.0.0.0"), ip("255.255.255.255")}).front().str() == "0.0.0.0/0");
    CHECK(cidr_cover({ip("10.0.0.2"), ip("10.0.0.1")}).empty());
    CHECK(cidr_cover({ip("10.0.0.2"), ip("::1")}).empty());

    // Exact: consecutive, aligned blocks from first to last. Minimal: equal to the count of maximal
    // aligned blocks inside the range, computed independently by walking the prefix trie.
    std::mt19937 rng(7);
    auto trie_count = [](auto&& self, std::uint64_t base, unsigned bits, std::uint64_t lo, std::uint64_t hi) -> std::size_t {
        std::uint64_t end = base + (std::uint64_t{1} << bits) - 1;
        if (end < lo || base > hi) return 0;
        if (base >= lo && end <= hi) return 1;
        std::uint64_t half = std::uint64_t{1} << (bits - 1);
        return self(self, base, bits - 1, lo, hi) + self(self, base + half, bits - 1, lo, hi);
    };
    for (int i = 0; i < 2000; ++i) {
        std::uint32_t a = rng(), b = rng();
        if (i % 3 == 0) b = a + (rng() % 5000);
        if (b < a) std::swap(a, b);
        auto cover = cidr_cover({IpAddress::v4(a), IpAddress::v4(b)});
        REQUIRE_FALSE(cover.empty());
        CHECK(cover.front().first() == IpAddress::v4(a));
        CHECK(cover.back().last() == IpAddress::v4(b));
        for (std::size_t k = 1; k < cover.size(); ++k)
            CHECK(cover[k].first().value() == cover[k - 1].last().value().next());
        CHECK(cover.size() == trie_count(trie_count, 0, 32, a, b));
    }
}
