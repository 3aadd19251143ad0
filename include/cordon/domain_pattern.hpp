// SPDX-License-Identifier: MIT
// cordon: domain patterns (`pypi.org`, `*.github.com:443`): parsing, matching, and the clamp of a request's list to a ceiling's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cordon/clamp_report.hpp"
#include "cordon/config.hpp"
#include "cordon/detail/ascii.hpp"
#include "cordon/error.hpp"

namespace cordon {

namespace detail {

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
            char l = ascii_lower(c);
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
            char c = ascii_lower(text[i]);
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

// The label suffixes strictly shorter than `name` ("a.b.c" -> "b.c", "c"), longest first.
inline std::vector<std::string_view> label_suffixes(std::string_view name) {
    std::vector<std::string_view> out;
    for (std::size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1))
        out.push_back(name.substr(dot + 1));
    return out;
}

// "api.github.com" -> "com.github.api": names below a suffix become one sorted range.
inline std::string reversed_labels(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (std::size_t end = name.size();;) {
        std::size_t dot = name.rfind('.', end == 0 ? 0 : end - 1);
        std::size_t begin = dot == std::string_view::npos || end == 0 ? 0 : dot + 1;
        if (!out.empty()) out += '.';
        out.append(name.substr(begin, end - begin));
        if (begin == 0) break;
        end = dot;
    }
    return out;
}

/// Patterns by name, so the questions clamp_domains asks cost the labels of the asked pattern and
/// the size of the answer, not the length of the list: which entries cover a name (its own exact
/// entry, wildcards over its label suffixes) and which lie below a suffix (a sorted range of
/// reversed names). Holds views of the list, which must outlive it unchanged.
class DomainIndex {
public:
    /// `below`: also index for name_overlaps() of wildcards (names below a suffix).
    explicit DomainIndex(const std::vector<DomainPattern>& list, bool below = true) : list_(list) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            (list[i].wildcard ? wildcards_ : exact_)[list[i].name].push_back(i);
            if (below) reversed_.emplace_back(reversed_labels(list[i].name), i);
        }
        std::sort(reversed_.begin(), reversed_.end());
    }

    /// Positions, ascending, of every entry whose host names meet `p`'s (ports not compared):
    /// exactly the entries `e` for which intersect(p, e) would be non-empty were both portless.
    std::vector<std::size_t> name_overlaps(const DomainPattern& p) const {
        std::vector<std::size_t> out;
        auto take = [&out](const auto& map, std::string_view key) {
            auto it = map.find(key);
            if (it != map.end()) out.insert(out.end(), it->second.begin(), it->second.end());
        };
        if (!p.wildcard) take(exact_, p.name);  // the same name
        else take(wildcards_, p.name);          // the same suffix
        for (std::string_view s : label_suffixes(p.name)) take(wildcards_, s);  // wildcards over it
        if (p.wildcard) {  // everything strictly below its suffix
            const std::string prefix = reversed_labels(p.name) + ".";
            auto it = std::lower_bound(reversed_.begin(), reversed_.end(), prefix,
                                       [](const auto& e, const std::string& x) { return e.first < x; });
            for (; it != reversed_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
                out.push_back(it->second);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    /// Whether another entry covers entry `i` (for two equal entries, the later one is covered).
    bool covered(std::size_t i) const {
        const DomainPattern& inner = list_[i];
        auto any_covers = [&](const auto& map, std::string_view key) {
            auto it = map.find(key);
            if (it == map.end()) return false;
            for (std::size_t j : it->second)
                if (j != i && covers(list_[j], inner) && (inner != list_[j] || j < i)) return true;
            return false;
        };
        if (!inner.wildcard && any_covers(exact_, inner.name)) return true;
        if (inner.wildcard && any_covers(wildcards_, inner.name)) return true;
        for (std::string_view s : label_suffixes(inner.name))
            if (any_covers(wildcards_, s)) return true;
        return false;
    }

private:
    const std::vector<DomainPattern>& list_;
    std::unordered_map<std::string_view, std::vector<std::size_t>> exact_, wildcards_;
    std::vector<std::pair<std::string, std::size_t>> reversed_;
};

// Drops every pattern another one covers (of two equal ones the first stays). A short list (one
// request's intersections, usually one or two) is compared pairwise; a long one through an index.
inline void remove_covered(std::vector<DomainPattern>& list) {
    std::vector<bool> drop(list.size());
    if (list.size() <= 16) {
        for (std::size_t i = 0; i < list.size(); ++i)
            for (std::size_t j = 0; j < list.size() && !drop[i]; ++j)
                drop[i] = j != i && covers(list[j], list[i]) && (list[i] != list[j] || j < i);
    } else {
        const DomainIndex index(list, false);
        for (std::size_t i = 0; i < list.size(); ++i) drop[i] = index.covered(i);
    }
    std::vector<DomainPattern> kept;
    kept.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i)
        if (!drop[i]) kept.push_back(std::move(list[i]));
    list = std::move(kept);
}

inline std::string join_patterns(const std::vector<DomainPattern>& list) {
    std::string s;
    for (const auto& p : list) s += (s.empty() ? "" : ", ") + p.to_string();
    return s;
}

// Why nothing of `asked` is granted, in one sentence.
inline std::string dropped_reason(const DomainPattern& asked, const std::vector<DomainPattern>& ceiling,
                                  const DomainIndex& index) {
    if (ceiling.empty()) return "the ceiling allows no domains";
    std::vector<DomainPattern> other_ports;
    for (std::size_t i : index.name_overlaps(asked)) other_ports.push_back(ceiling[i]);
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
    const detail::DomainIndex index(ceiling);  // ceilings of thousands of patterns: no request compares with each
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
        for (std::size_t c : index.name_overlaps(*asked))
            if (auto x = intersect(*asked, ceiling[c])) parts.push_back(std::move(*x));
        detail::remove_covered(parts);
        if (parts.empty()) {
            d.reason = detail::dropped_reason(*asked, ceiling, index);
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
