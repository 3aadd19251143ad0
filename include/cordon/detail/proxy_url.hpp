// SPDX-License-Identifier: MIT
// cordon: the form MXC requires of a proxy URL: legacy `network.proxy.url` (scheme://host:port) and
// directional `runtimeConfig.networkProxy` (an http(s) URL on the loopback, with a port).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/ip_address.hpp"

namespace cordon::detail {

inline bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

/// Why `url` is not an acceptable proxy URL, or nullopt when it is.
inline std::optional<std::string> proxy_url_problem(std::string_view url) {
    const std::string not_url = "not a URL; expected scheme://host:port (e.g. http://127.0.0.1:3128)";
    auto colon = url.find("://");
    if (colon == std::string_view::npos || colon == 0 || !is_ascii_alpha(url[0])) return not_url;
    for (char c : url.substr(0, colon))
        if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return not_url;
    std::string_view authority = url.substr(colon + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    for (char c : authority)
        if (static_cast<unsigned char>(c) <= ' ' || c == '\\' || c == '"' || c == '<' || c == '>') return not_url;
    std::string_view host = authority, port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return not_url;
        host = authority.substr(0, close + 1);
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return not_url;
        if (!rest.empty()) port = rest.substr(1);
    } else if (auto c = authority.rfind(':'); c != std::string_view::npos) {
        host = authority.substr(0, c);
        port = authority.substr(c + 1);
    }
    if (host.empty() || host == "[]") return not_url;
    if (port.empty()) return "must include an explicit port (e.g. http://localhost:8080)";
    unsigned long value = 0;
    for (char c : port) {
        if (!is_ascii_digit(c) || port.size() > 5) return "port is not a number from 1 to 65535";
        value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value < 1 || value > 65535) return "port is not a number from 1 to 65535";
    return std::nullopt;
}

/// Whether the URL's authority carries user information (`user@`, `user:password@`).
inline bool proxy_url_has_userinfo(std::string_view url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view authority = url.substr(scheme_end + 3);
    return authority.substr(0, authority.find_first_of("/?#")).find('@') != std::string_view::npos;
}

// One WHATWG IPv4 part: decimal, 0x hex or leading-0 octal; nullopt when it is not a number.
inline std::optional<std::uint64_t> whatwg_ipv4_part(std::string_view part) {
    unsigned base = 10;
    if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) base = 16, part.remove_prefix(2);
    else if (part.size() >= 2 && part[0] == '0') base = 8, part.remove_prefix(1);
    std::uint64_t value = 0;
    for (char c : part) {
        unsigned d = is_ascii_digit(c) ? unsigned(c - '0')
                     : (c >= 'a' && c <= 'f') ? unsigned(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? unsigned(c - 'A' + 10)
                                              : 99u;
        if (d >= base) return std::nullopt;
        value = value * base + d;
        if (value > 0xffffffffull) return 0x100000000ull;  // too large, and stays so
    }
    return value;
}

/// The host as a WHATWG URL parser serialises it (what the executor compares): lower-case ASCII,
/// numeric hosts as dotted IPv4 (`127.000.000.001`, `2130706433` -> 127.0.0.1), IPv6 compressed in
/// brackets. nullopt when the host is not valid.
inline std::optional<std::string> whatwg_host(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        if (host.back() != ']') return std::nullopt;
        auto a = IpAddress::parse(host.substr(1, host.size() - 2));
        if (!a || a->family() != IpFamily::v6) return std::nullopt;
        return "[" + a->str() + "]";
    }
    std::string lower;
    for (char c : host) lower += (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
    std::vector<std::string_view> parts;
    for (std::size_t at = 0;;) {
        auto dot = lower.find('.', at);
        parts.push_back(std::string_view(lower).substr(at, dot == std::string::npos ? std::string::npos : dot - at));
        if (dot == std::string::npos) break;
        at = dot + 1;
    }
    if (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // one trailing dot is ignored for numbers
    if (parts.back().empty() || !whatwg_ipv4_part(parts.back())) return lower;  // a domain name
    if (parts.size() > 4) return std::nullopt;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto n = parts[i].empty() ? std::nullopt : whatwg_ipv4_part(parts[i]);
        bool last = i + 1 == parts.size();
        if (!n || (!last && *n > 255) || (last && *n >= (1ull << (8 * (5 - parts.size()))))) return std::nullopt;
        value = last ? value + *n : value + (*n << (8 * (3 - i)));
    }
    return IpAddress::v4(static_cast<std::uint32_t>(value)).str();
}

/// Why `url` is not an acceptable `runtimeConfig.networkProxy` (with the executor's wording), or
/// nullopt: an http(s) URL whose host normalises to localhost, 127.0.0.1 or [::1], with a port that
/// is not the scheme's default (a URL parser drops `:80` from http, so it counts as no port).
inline std::optional<std::string> network_proxy_problem(std::string_view url) {
    const std::string name = "runtimeConfig.networkProxy";
    auto colon = url.find(':');
    bool scheme_ok = colon != std::string_view::npos && colon > 0 && is_ascii_alpha(url[0]);
    for (std::size_t i = 0; scheme_ok && i < colon; ++i)
        scheme_ok = is_ascii_alpha(url[i]) || is_ascii_digit(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.';
    if (!scheme_ok) return name + " is invalid: relative URL without a base";
    std::string scheme;
    for (char c : url.substr(0, colon)) scheme += (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
    if (scheme != "http" && scheme != "https")
        return name + " must use the 'http' or 'https' scheme (got '" + scheme + "'): " + std::string(url);
    std::string_view rest = url.substr(colon + 1);
    while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#\\"));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    std::string_view host = authority, port;
    auto close = authority.find(']');
    auto port_colon = authority.find(':', close == std::string_view::npos ? 0 : close);
    if (port_colon != std::string_view::npos) host = authority.substr(0, port_colon), port = authority.substr(port_colon + 1);
    auto normal = host.empty() ? std::nullopt : whatwg_host(host);
    if (!normal) return name + " is invalid: " + (host.empty() ? "empty host" : "invalid host");
    std::uint32_t number = 0;
    for (char c : port) {
        if (!is_ascii_digit(c)) return name + " is invalid: invalid port number";
        number = number * 10 + unsigned(c - '0');
        if (number > 65535) return name + " is invalid: invalid port number";
    }
    if (*normal != "localhost" && *normal != "127.0.0.1" && *normal != "[::1]")
        return name + " must use localhost, 127.0.0.1, or [::1]";
    bool default_port = (scheme == "http" && number == 80) || (scheme == "https" && number == 443);
    if (port.empty() || default_port)
        return name + " must include a port (e.g., http://localhost:8080), got: " + std::string(url);
    return std::nullopt;
}

}  // namespace cordon::detail
