// SPDX-License-Identifier: MIT
// cordon: implementation of detail/host_addresses.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#if !defined(_WIN32)
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include "cordon/detail/host_addresses.hpp"

namespace cordon::detail {

CORDON_FUNC std::vector<Cidr> host_addresses() {
    std::vector<Cidr> out;
    for (const char* fixed : {"0.0.0.0/32", "127.0.0.0/8", "::/128", "::1/128"})
        if (auto c = Cidr::parse(fixed)) out.push_back(*c);
#if !defined(_WIN32)
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (const ifaddrs* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr) continue;
            if (i->ifa_addr->sa_family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
                out.push_back(Cidr::host(IpAddress::v4(ntohl(sin->sin_addr.s_addr))));
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
                std::uint64_t hi = 0, lo = 0;
                for (int b = 0; b < 8; ++b) hi = hi << 8 | sin6->sin6_addr.s6_addr[b];
                for (int b = 8; b < 16; ++b) lo = lo << 8 | sin6->sin6_addr.s6_addr[b];
                out.push_back(Cidr::host(IpAddress::v6(Uint128{hi, lo}).unmapped()));
            }
        }
        ::freeifaddrs(list);
    }
#endif
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace cordon::detail
