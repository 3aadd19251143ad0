// SPDX-License-Identifier: MIT
// Destination address classes: every internal kind, IPv4 embedded in IPv6, the host's own addresses, blocks.
#include "cordon/detail/address_class.hpp"

#include <doctest/doctest.h>

#include "cordon/domain_pattern.hpp"  // both headers in both files of this program: a missing inline fails to link

#include <string>

using namespace cordon::detail;

namespace {

IpAddr ip(const char* text) {
    auto a = IpAddr::parse(text);
    REQUIRE_MESSAGE(a.has_value(), text);
    return *a;
}

std::string kind(const char* text) { return std::string(to_string(classify(ip(text)))); }

}  // namespace

TEST_CASE("IPv4 address classes") {
    CHECK(kind("127.0.0.1") == "loopback");
    CHECK(kind("127.255.0.9") == "loopback");
    CHECK(kind("10.1.2.3") == "private");
    CHECK(kind("172.16.0.1") == "private");
    CHECK(kind("172.31.255.255") == "private");
    CHECK(kind("172.32.0.1") == "global");
    CHECK(kind("192.168.1.1") == "private");
    CHECK(kind("169.254.1.1") == "link-local");
    CHECK(kind("100.64.0.1") == "carrier-grade-nat");
    CHECK(kind("100.127.255.255") == "carrier-grade-nat");
    CHECK(kind("100.128.0.1") == "global");
    CHECK(kind("169.254.169.254") == "cloud-metadata");
    CHECK(kind("100.100.100.200") == "cloud-metadata");
    CHECK(kind("168.63.129.16") == "cloud-metadata");
    CHECK(kind("168.63.129.17") == "global");
    CHECK(kind("0.0.0.0") == "unspecified");
    CHECK(kind("0.1.2.3") == "unspecified");
    CHECK(kind("224.0.0.1") == "multicast");
    CHECK(kind("239.255.255.250") == "multicast");
    CHECK(kind("255.255.255.255") == "broadcast");
    CHECK(kind("240.0.0.1") == "reserved");
    CHECK(kind("198.18.0.1") == "reserved");
    CHECK(kind("192.0.0.170") == "reserved");
    CHECK(kind("198.51.100.7") == "documentation");
    CHECK(kind("203.0.113.9") == "documentation");
    CHECK(kind("192.0.2.1") == "documentation");
    CHECK(kind("8.8.8.8") == "global");
    CHECK(kind("1.1.1.1") == "global");
}

TEST_CASE("IPv6 address classes, and IPv4 hidden in IPv6") {
    CHECK(kind("::1") == "loopback");
    CHECK(kind("::") == "unspecified");
    CHECK(kind("fd00:ec2::254") == "cloud-metadata");
    CHECK(kind("fd00:ec2::253") == "private");
    CHECK(kind("fc00::1") == "private");
    CHECK(kind("fe80::1") == "link-local");
    CHECK(kind("febf::1") == "link-local");
    CHECK(kind("fec0::1") == "private");
    CHECK(kind("ff02::1") == "multicast");
    CHECK(kind("100::1") == "reserved");
    CHECK(kind("2001:db8::7") == "documentation");
    CHECK(kind("2606:4700::1111") == "global");
    CHECK(kind("64:ff9b:1::1") == "private");
    // The IPv4 address inside decides: mapped, compatible, NAT64 and 6to4 forms.
    CHECK(kind("::ffff:127.0.0.1") == "loopback");
    CHECK(kind("::ffff:169.254.169.254") == "cloud-metadata");
    CHECK(kind("::ffff:a9fe:a9fe") == "cloud-metadata");
    CHECK(kind("::ffff:10.0.0.1") == "private");
    CHECK(kind("::ffff:100.100.100.200") == "cloud-metadata");
    CHECK(kind("::ffff:0.0.0.0") == "unspecified");
    CHECK(kind("::127.0.0.1") == "loopback");
    CHECK(kind("64:ff9b::169.254.169.254") == "cloud-metadata");
    CHECK(kind("64:ff9b::8.8.8.8") == "global");
    CHECK(kind("2002:7f00:1::") == "loopback");
    CHECK(kind("2002:c0a8:101::1") == "private");
    CHECK(kind("::ffff:198.51.100.7") == "documentation");
    CHECK(is_internal(AddressClass::metadata));
    CHECK_FALSE(is_internal(AddressClass::global));
    CHECK_FALSE(is_internal(AddressClass::documentation));
}

TEST_CASE("the host's own addresses") {
    std::vector<IpAddr> own{ip("198.51.100.1"), ip("2001:db8::1")};
    CHECK(classify(ip("198.51.100.1"), own) == AddressClass::host_own);
    CHECK(classify(ip("::ffff:198.51.100.1"), own) == AddressClass::host_own);
    CHECK(classify(ip("2001:db8::1"), own) == AddressClass::host_own);
    CHECK(classify(ip("198.51.100.2"), own) == AddressClass::documentation);
    // An internal kind keeps its own, more telling, name.
    CHECK(classify(ip("127.0.0.1"), {ip("127.0.0.1")}) == AddressClass::loopback);
}

TEST_CASE("address parsing and blocks") {
    CHECK_FALSE(IpAddr::parse(""));
    CHECK_FALSE(IpAddr::parse("1.2.3"));
    CHECK_FALSE(IpAddr::parse("1.2.3.4.5"));
    CHECK_FALSE(IpAddr::parse("256.1.1.1"));
    CHECK_FALSE(IpAddr::parse("[::1]"));
    CHECK_FALSE(IpAddr::parse("::1%lo"));
    CHECK_FALSE(IpAddr::parse(std::string(100, '1')));
    CHECK(ip("::ffff:1.2.3.4").to_string() == "::ffff:1.2.3.4");
    CHECK(ip("1.2.3.4").to_string() == "1.2.3.4");
    // The parser is cordon's own (no inet_pton): strict forms in, RFC 5952 text out.
    for (const char* bad : {"01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.4.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "::1::", ":1",
                            "1:", "1:2:3:4:5:6:7:8:9", "12345::", "1:2:3:4:5:6:7:1.2.3.4", "g::1", "::1.2.3", "1:::2", "::%1"})
        CHECK_MESSAGE(!IpAddr::parse(bad), bad);
    struct Form {
        const char* in;
        const char* out;
    };
    for (Form f : {Form{"::", "::"}, Form{"::1", "::1"}, Form{"1::", "1::"}, Form{"FD00:EC2:0:0:0:0:0:254", "fd00:ec2::254"},
                   Form{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, Form{"2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"},
                   Form{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"}, Form{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
                   Form{"::ffff:a9fe:a9fe", "::ffff:169.254.169.254"}, Form{"64:ff9b::1.2.3.4", "64:ff9b::102:304"},
                   Form{"255.255.255.255", "255.255.255.255"}, Form{"0.0.0.0", "0.0.0.0"}})
        CHECK_MESSAGE(ip(f.in).to_string() == f.out, f.in);
    CHECK(ip("::ffff:127.0.0.1") == ip("::ffff:7f00:1"));
    CHECK(ip("::ffff:127.0.0.1") != ip("127.0.0.1"));  // the family differs; classification unwraps it

    auto net = IpBlock::parse("127.0.0.0/8");
    REQUIRE(net);
    CHECK(net->contains(ip("127.9.9.9")));
    CHECK_FALSE(net->contains(ip("128.0.0.1")));
    CHECK_FALSE(net->contains(ip("::1")));
    CHECK(IpBlock::parse("169.254.169.254")->prefix == 32);
    CHECK(IpBlock::parse("fd00::/8")->contains(ip("fd00:ec2::254")));
    CHECK(IpBlock::parse("0.0.0.0/0")->contains(ip("8.8.8.8")));
    CHECK(IpBlock::parse("10.0.0.1/8").error().message.find("host bits set (write 10.0.0.0/8)") != std::string::npos);
    CHECK(!IpBlock::parse("10.0.0.0/33"));
    CHECK(!IpBlock::parse("10.0.0.0/"));
    CHECK(!IpBlock::parse("10.0.0.0/08"));
    CHECK(!IpBlock::parse("example.com/8"));
    CHECK(in_any(ip("::ffff:127.0.0.1"), {*IpBlock::parse("127.0.0.1/32")}));
    CHECK_FALSE(in_any(ip("127.0.0.2"), {*IpBlock::parse("127.0.0.1/32")}));
}
