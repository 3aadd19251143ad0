// SPDX-License-Identifier: MIT
// cordon: the form MXC requires of `network.proxy.url`: scheme://host:port with an explicit port.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

}  // namespace cordon::detail
