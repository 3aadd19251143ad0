// SPDX-License-Identifier: MIT
// cordon: domain patterns (`pypi.org`, `*.github.com:443`): parsing, matching, and the clamp of a request's list to a ceiling's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cordon/clamp_report.hpp"
#include "cordon/config.hpp"
#include "cordon/error.hpp"

namespace cordon {

namespace detail {

inline char name_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool is_label_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// WHATWG URL parsers (and inet_aton) read a host whose last label is a number (decimal or 0x-hex)
// as an IPv4 address: "127.1" and "0x7f.1" reach 127.0.0.1. Such a name is never a domain here.
inline bool is_numeric_label(std::string_view label) noexcept {
    if (label.empty()) return false;
    if (label.size() >= 2 && label[0] == '0' && label[1] == 'x') {
        for (char c : label.substr(2))
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        return true;
    }
    for (char c : label)
        if (c < '0' || c > '9') return false;
    return true;
}

// Lower-cases `text` into a DNS name of LDH labels (underscore allowed: it occurs in real host
// names) and drops one trailing dot. Returns why it is not a domain name, or nullopt.
inline std::optional<std::string> domain_name_problem(std::string_view text, std::string& out) {
    out.clear();
    if (text.empty()) return std::string("is empty");
    if (text.find(':') != std::string_view::npos || text.front() == '[') {
        bool ip_like = true;  // hex digits, ':', '.', brackets and a zone: an IPv6 literal
        for (char c : text) {
            char l = name_lower(c);
            ip_like = ip_like && ((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f') || l == ':' || l == '.' || l == '[' ||
                                  l == ']');
        }
        if (ip_like)
            return std::string("is an IP address literal; IP destinations belong to CIDR egress rules, not domain patterns");
        return std::string("contains ':'; a port goes once at the end (name:PORT)");
    }
    if (text.size() > 1 && text.back() == '.') text.remove_suffix(1);  // the absolute (FQDN) spelling
    if (text.size() > 253) return std::string("is longer than 253 characters");
    out.reserve(text.size());
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != '.') {
            char c = name_lower(text[i]);
            auto u = static_cast<unsigned char>(c);
            if (u >= 0x80) return std::string("contains non-ASCII characters; write the name in its punycode (xn--) form");
            if (!is_label_char(c)) {
                if (c == '*') return std::string("has a wildcard that is not the whole leftmost label (write *.example.com)");
                std::string shown = (u < 0x20 || u == 0x7f) ? "a control character" : std::string("'") + c + "'";
                return "contains " + shown + "; a name has only letters, digits, '-', '_' and '.'";
            }
            out += c;
            continue;
        }
        std::string_view label(out.data() + label_start, out.size() - label_start);
        if (label.empty()) return std::string("has an empty label (\"..\", or a leading or trailing dot)");
        if (label.size() > 63) return "has a label longer than 63 characters (\"" + std::string(label.substr(0, 20)) + "...\")";
        if (label.front() == '-' || label.back() == '-')
            return "has a label that begins or ends with '-' (\"" + std::string(label) + "\")";
        if (i < text.size()) {
            out += '.';
            label_start = out.size();
        }
    }
    std::string_view last(out.data() + label_start, out.size() - label_start);
    if (is_numeric_label(last))
        return std::string("is an IP address literal (its last label is a number); IP destinations belong to CIDR egress rules, not domain patterns");
    return std::nullopt;
}

// `name` equals `suffix` or lies below it (both normalised).
inline bool name_within(std::string_view name, std::string_view suffix) noexcept {
    if (name.size() == suffix.size()) return name == suffix;
    return name.size() > suffix.size() && name[name.size() - suffix.size() - 1] == '.' &&
           name.substr(name.size() - suffix.size()) == suffix;
}

// `name` lies strictly below `suffix`: what `*.suffix` matches.
inline bool name_strictly_below(std::string_view name, std::string_view suffix) noexcept {
    return name.size() > suffix.size() && name_within(name, suffix);
}

}  // namespace detail

/// A host name lower-cased and without its trailing dot, or why it is not a domain name (an IP
/// literal, bad characters, empty labels, non-ASCII).
/// Errors: invalid_policy.
inline Result<std::string> normalize_domain(std::string_view host) {
    std::string out;
    if (auto problem = detail::domain_name_problem(host, out))
        return make_error(ErrorCode::invalid_policy, "\"" + std::string(host) + "\" " + *problem);
    return out;
}

/// A granted destination: an exact host name, or `*.suffix`, which matches every name strictly
/// below `suffix` (any depth) and not `suffix` itself, as in sandbox-runtime, DNS wildcards
/// (RFC 4592) and TLS certificates (RFC 6125); grant both to reach both. No port: every port.
struct DomainPattern {
    std::string name;        ///< lower-case, no trailing dot; for a wildcard the suffix after "*."
    bool wildcard = false;
    std::uint16_t port = 0;  ///< 0: every port

    /// Parses `example.com`, `*.example.com`, either with `:PORT` (1-65535).
    /// Errors: invalid_policy, saying what is wrong (IP literal, bare or misplaced `*`, empty label, ...).
    static Result<DomainPattern> parse(std::string_view text) {
        auto fail = [&](const std::string& why) {
            return make_error(ErrorCode::invalid_policy, "domain pattern \"" + std::string(text) + "\" " + why);
        };
        DomainPattern p;
        std::string_view host = text;
        if (text.empty()) return fail("is empty");
        if (auto colon = text.rfind(':'); colon != std::string_view::npos && text.front() != '[' &&
                                          text.find(':') == colon) {
            std::string_view port = text.substr(colon + 1);
            host = text.substr(0, colon);
            unsigned long value = 0;
            bool digits = !port.empty() && port.size() <= 5 && port[0] != '0';
            for (char c : port) {
                digits = digits && c >= '0' && c <= '9';
                if (digits) value = value * 10 + static_cast<unsigned long>(c - '0');
            }
            if (!digits || value < 1 || value > 65535)
                return fail("has a bad port \"" + std::string(port) + "\"; expected a number from 1 to 65535 without leading zeros");
            p.port = static_cast<std::uint16_t>(value);
        }
        if (host == "*" || host == "*.") return fail("is a bare '*'; grant named domains (e.g. *.example.com)");
        if (host.size() >= 2 && host[0] == '*' && host[1] == '.') {
            p.wildcard = true;
            host.remove_prefix(2);
        } else if (!host.empty() && host[0] == '*') {
            return fail("has a wildcard that is not the whole leftmost label (write *.example.com)");
        }
        if (auto problem = detail::domain_name_problem(host, p.name)) return fail(*problem);
        if (p.wildcard && p.name.find('.') == std::string::npos)
            return fail("would grant a whole top-level domain; a wildcard needs at least two labels after \"*.\" (e.g. *.example.com)");
        return p;
    }

    /// The canonical text: `*.example.com:443`.
    std::string to_string() const {
        std::string s = wildcard ? "*." + name : name;
        if (port != 0) s += ":" + std::to_string(port);
        return s;
    }

    /// Whether a normalised host name (see normalize_domain) matches the name part.
    bool matches_name(std::string_view host) const noexcept {
        return wildcard ? detail::name_strictly_below(host, name) : host == name;
    }

    friend bool operator==(const DomainPattern& a, const DomainPattern& b) noexcept {
        return a.name == b.name && a.wildcard == b.wildcard && a.port == b.port;
    }
    friend bool operator!=(const DomainPattern& a, const DomainPattern& b) noexcept { return !(a == b); }
};

/// Whether `host:port` is matched by `pattern`. `host` is normalised first (case, trailing dot);
/// a host that is no domain name (an IP literal, bad characters) matches nothing.
inline bool matches(const DomainPattern& pattern, std::string_view host, std::uint16_t port) {
    std::string normal;
    if (detail::domain_name_problem(host, normal)) return false;
    return (pattern.port == 0 || pattern.port == port) && pattern.matches_name(normal);
}

/// The first pattern of `patterns` matching `host:port`, or nullptr.
inline const DomainPattern* find_match(const std::vector<DomainPattern>& patterns, std::string_view host,
                                       std::uint16_t port) {
    std::string normal;
    if (detail::domain_name_problem(host, normal)) return nullptr;
    for (const auto& p : patterns)
        if ((p.port == 0 || p.port == port) && p.matches_name(normal)) return &p;
    return nullptr;
}

/// Whether every host:port `inner` matches is matched by `outer`.
inline bool covers(const DomainPattern& outer, const DomainPattern& inner) noexcept {
    if (outer.port != 0 && outer.port != inner.port) return false;
    if (!outer.wildcard) return !inner.wildcard && inner.name == outer.name;
    return inner.wildcard ? detail::name_within(inner.name, outer.name)
                          : detail::name_strictly_below(inner.name, outer.name);
}

/// The host:port pairs both patterns match, as one pattern (patterns are closed under
/// intersection), or nullopt when they share none.
inline std::optional<DomainPattern> intersect(const DomainPattern& a, const DomainPattern& b) {
    if (a.port != 0 && b.port != 0 && a.port != b.port) return std::nullopt;
    std::uint16_t port = a.port != 0 ? a.port : b.port;
    DomainPattern names;
    if (covers(DomainPattern{a.name, a.wildcard, 0}, DomainPattern{b.name, b.wildcard, 0})) names = b;
    else if (covers(DomainPattern{b.name, b.wildcard, 0}, DomainPattern{a.name, a.wildcard, 0})) names = a;
    else return std::nullopt;  // two names, or an exact name outside a wildcard, or disjoint suffixes
    names.port = port;
    return names;
}

/// Parses a list; the first bad entry is an error whose `where` is `pointer/INDEX`.
/// Errors: invalid_policy.
inline Result<std::vector<DomainPattern>> parse_domain_patterns(const std::vector<std::string>& texts,
                                                                std::string_view pointer = "/network/allowedDomains") {
    std::vector<DomainPattern> out;
    out.reserve(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto p = DomainPattern::parse(texts[i]);
        if (!p) return make_error(ErrorCode::invalid_policy, p.error().message, std::string(pointer) + "/" + std::to_string(i));
        out.push_back(std::move(*p));
    }
    return out;
}

/// What a request's domain list became under a ceiling: the granted patterns (no entry covered by
/// another) and one decision per requested entry.
struct DomainClamp {
    std::vector<DomainPattern> granted;
    std::vector<ClampDecision> decisions;
};

namespace detail {

// Drops every pattern another one covers (of two equal ones the first stays).
inline void remove_covered(std::vector<DomainPattern>& list) {
    std::vector<DomainPattern> kept;
    for (std::size_t i = 0; i < list.size(); ++i) {
        bool covered = false;
        for (std::size_t j = 0; j < list.size() && !covered; ++j)
            covered = j != i && covers(list[j], list[i]) && (list[i] != list[j] || j < i);
        if (!covered) kept.push_back(list[i]);
    }
    list = std::move(kept);
}

inline std::string join_patterns(const std::vector<DomainPattern>& list) {
    std::string s;
    for (const auto& p : list) s += (s.empty() ? "" : ", ") + p.to_string();
    return s;
}

// Why nothing of `asked` is granted, in one sentence.
inline std::string dropped_reason(const DomainPattern& asked, const std::vector<DomainPattern>& ceiling) {
    if (ceiling.empty()) return "the ceiling allows no domains";
    std::vector<DomainPattern> other_ports;
    for (const auto& c : ceiling)
        if (intersect(DomainPattern{asked.name, asked.wildcard, 0}, DomainPattern{c.name, c.wildcard, 0}))
            other_ports.push_back(c);
    if (!other_ports.empty())
        return "the ceiling allows " + asked.to_string() + " only as " + join_patterns(other_ports) +
               " (another port)";
    return "no ceiling pattern matches " + asked.to_string();
}

}  // namespace detail

/// Narrows a request's domain patterns to a ceiling's by pattern intersection: each requested
/// pattern becomes the union of its intersections with the ceiling's patterns. Kept: granted as
/// asked; narrowed: only part of it (`*.github.com` under `api.github.com`); dropped: nothing, or
/// the text is no valid pattern. `field` is the request's JSON pointer (`/network/allowedDomains`).
inline DomainClamp clamp_domains(const std::vector<std::string>& request, const std::vector<DomainPattern>& ceiling,
                                 std::string_view field = "/network/allowedDomains") {
    DomainClamp out;
    for (std::size_t i = 0; i < request.size(); ++i) {
        ClampDecision d;
        d.field = std::string(field) + "/" + std::to_string(i);
        d.requested = request[i];
        auto asked = DomainPattern::parse(request[i]);
        if (!asked) {
            d.reason = asked.error().message;
            out.decisions.push_back(std::move(d));
            continue;
        }
        std::vector<DomainPattern> parts;
        for (const auto& c : ceiling)
            if (auto x = intersect(*asked, c)) parts.push_back(std::move(*x));
        detail::remove_covered(parts);
        if (parts.empty()) {
            d.reason = detail::dropped_reason(*asked, ceiling);
        } else if (parts.size() == 1 && parts[0] == *asked) {
            d.verdict = Verdict::kept;
        } else {
            d.verdict = Verdict::narrowed;
            d.reason = "the ceiling allows only " + detail::join_patterns(parts) + " of " + asked->to_string();
        }
        for (const auto& p : parts) {
            d.result.push_back(ClampResultItem{std::string(field), p.to_string()});
            out.granted.push_back(p);
        }
        out.decisions.push_back(std::move(d));
    }
    detail::remove_covered(out.granted);
    return out;
}

}  // namespace cordon
