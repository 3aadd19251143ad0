// SPDX-License-Identifier: MIT
// cordon: EgressSet, the traffic an MXC egress section allows as an exact set, with intersection, union, difference and conversion back to rules.
#pragma once

#include <algorithm>  // std::lower_bound
#include <cstddef>
#include <cstdint>
#include <functional>  // std::hash
#include <map>
#include <memory>  // std::shared_ptr
#include <new>     // std::bad_alloc
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cordon/cidr.hpp"
#include "cordon/config.hpp"
#include "cordon/detail/peer_cover.hpp"
#include "cordon/detail/span_set.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/error.hpp"
#include "cordon/ip_address.hpp"

namespace cordon {

/// The transport of one concrete packet (for EgressSet::admits). `other` is any IP protocol that is
/// not tcp, udp or icmp (sctp, gre, ...): only rules with protocol `any` and no port reach it.
enum class Transport : std::uint8_t { tcp, udp, icmp, other };

/// One concrete packet: destination, transport and destination port (ignored for icmp and other).
struct Packet {
    IpAddress destination;
    Transport transport = Transport::tcp;
    std::uint16_t port = 0;
};

namespace detail {

// The service axis: tcp ports 0..65535, then udp ports, then icmp, then every other protocol, so
// that a rule's protocols and ports are one SpanSet. Port 0 is kept: "tcp" without a port matches it.
inline constexpr std::uint32_t udp_base = 65536;
inline constexpr std::uint32_t icmp_service = 131072;
inline constexpr std::uint32_t other_service = 131073;
inline constexpr std::uint32_t service_max = other_service;

inline std::uint32_t service_of(Transport t, std::uint16_t port) noexcept {
    switch (t) {
        case Transport::tcp: return port;
        case Transport::udp: return udp_base + port;
        case Transport::icmp: return icmp_service;
        case Transport::other: return other_service;
    }
    return other_service;
}

using SpanSetPtr = std::shared_ptr<const SpanSet>;

/// A maximal run of addresses on the unified axis that all allow the same services.
struct Slab {
    Uint128 first;
    Uint128 last;
    SpanSetPtr services;  // never null or empty
};

// Upper bound on the size of a set built from rules, so that hostile rule lists fail with an
// error instead of exhausting memory (a wide many-port rule crossed with many narrow rules is the
// only input that grows faster than its text; see EgressSet).
inline constexpr std::size_t egress_span_limit = std::size_t{1} << 20;

}  // namespace detail

/// The set of (destination, protocol, port) an MXC egress section allows, in one canonical form:
/// a sorted list of maximal address runs ("slabs") on one axis for both families (IPv4 at
/// ::ffff:0:0/96, where the executor puts IPv4-mapped peers), each with the set of services it
/// allows (tcp/udp port ranges, icmp, other protocols). Equal sets have equal forms, so == is exact.
///
/// Cost, and why it scales: an operation on sets A and B sweeps both slab lists once. Intersection
/// and difference jump over runs of the other list by binary search, and compare two service sets by
/// walking the smaller and binary-searching the larger. A sweep pairs each slab with the slabs it
/// overlaps; charging each pair to the slab that ends first charges every slab once, so the work is
/// O(N log N) in the size N of the inputs. Slabs from one rule share one service set (shared_ptr), and
/// each distinct pair of service sets is combined once per operation. 1,000 /32 rules with one port,
/// or one CIDR with 1,000 ports, are N ~ 1,000, and intersecting two of them is near-linear. The form
/// itself grows faster than the rules only where a wide rule with many ports overlaps many narrow
/// rules with other ports (up to their product); from_rules() refuses sets that store over 1M pieces.
class EgressSet {
public:
    /// The empty set: nothing allowed.
    EgressSet() = default;

    /// Every destination, protocol and port.
    static EgressSet everything() {
        EgressSet s;
        s.slabs_.push_back({Uint128{}, (Uint128::max)(), all_services()});
        return s;
    }

    /// The traffic one rule matches. Errors: invalid-policy for a rule the executor rejects or refuses
    /// (see check_rule), including an IPv6 block shorter than /96 that contains ::ffff:0:0/96.
    static Result<EgressSet> from_rule(const EgressRule& rule, std::string_view where = "");
    /// The union of the rules; `where` is the list's JSON pointer (rule k is at where/k).
    static Result<EgressSet> from_rules(const std::vector<EgressRule>& rules, std::string_view where = "");
    /// What an egress section allows: (everything if the default is allow, else the allow rules)
    /// minus the deny rules. The allow rules are checked even under default allow.
    static Result<EgressSet> from_egress(const Egress& egress, std::string_view where = "/network/egress");

    bool empty() const noexcept { return slabs_.empty(); }
    bool is_everything() const noexcept {
        return slabs_.size() == 1 && slabs_[0].first == Uint128{} && slabs_[0].last == (Uint128::max)() &&
               *slabs_[0].services == *all_services();
    }
    /// Whether the packet is allowed. An IPv4-mapped destination is its IPv4 address.
    bool admits(const Packet& p) const;
    /// Whether any traffic to an address in `block` is allowed. IPv4-mapped blocks are IPv4, and so
    /// is the ::ffff:0:0/96 part of an IPv6 block that contains it.
    bool overlaps(const Cidr& block) const;
    bool intersects(const EgressSet& other) const { return !(*this & other).empty(); }
    bool subset_of(const EgressSet& other) const { return (*this - other).empty(); }

    friend EgressSet operator&(const EgressSet& a, const EgressSet& b) { return combine(a, b, Op::intersect); }
    friend EgressSet operator|(const EgressSet& a, const EgressSet& b) { return combine(a, b, Op::unite); }
    friend EgressSet operator-(const EgressSet& a, const EgressSet& b) { return combine(a, b, Op::subtract); }
    friend bool operator==(const EgressSet& a, const EgressSet& b) {
        if (a.slabs_.size() != b.slabs_.size()) return false;
        for (std::size_t i = 0; i < a.slabs_.size(); ++i) {
            const detail::Slab& x = a.slabs_[i];
            const detail::Slab& y = b.slabs_[i];
            if (x.first != y.first || x.last != y.last) return false;
            if (x.services != y.services && *x.services != *y.services) return false;
        }
        return true;
    }
    friend bool operator!=(const EgressSet& a, const EgressSet& b) { return !(a == b); }

    /// Whether to_egress() can say exactly this set. Every intersection of sets built from egress
    /// sections can; a union or difference may need "every protocol except tcp but port 80", which no
    /// MXC rule says.
    bool expressible() const { return expressible_part() == *this; }
    /// The largest part of the set to_egress() says exactly (it leaves out "other protocols" where
    /// keeping them would need that impossible form).
    EgressSet expressible_part() const;
    /// A compact egress section for expressible_part(): default deny with allow (and, where
    /// needed, deny) rules, or default allow with deny rules, whichever is shorter.
    Egress to_egress() const;

    /// Size of the canonical form: slabs, and service spans summed over all slabs.
    std::size_t slab_count() const noexcept { return slabs_.size(); }
    std::size_t span_count() const noexcept {
        std::size_t n = 0;
        for (const auto& s : slabs_) n += s.services->size();
        return n;
    }
    /// What the form holds in memory: slabs plus the spans of each distinct (shared) service set.
    std::size_t stored_size() const {
        std::unordered_map<const detail::SpanSet*, bool> seen;
        std::size_t n = slabs_.size();
        for (const auto& s : slabs_)
            if (seen.emplace(s.services.get(), true).second) n += s.services->size();
        return n;
    }
    const std::vector<detail::Slab>& slabs() const noexcept { return slabs_; }

    class Index;  // many small queries against one large set (egress_index.hpp)

private:
    enum class Op { intersect, unite, subtract };
    class Builder;

    static const detail::SpanSetPtr& all_services() {
        static const detail::SpanSetPtr all = std::make_shared<const detail::SpanSet>(
            detail::SpanSet{{0, detail::service_max}});
        return all;
    }
    static EgressSet combine(const EgressSet& a, const EgressSet& b, Op op);
    static void intersect_into(const EgressSet& a, const EgressSet& b, Builder& out);
    static void unite_into(const EgressSet& a, const EgressSet& b, Builder& out);
    static void subtract_into(const EgressSet& a, const EgressSet& b, Builder& out);

    std::vector<detail::Slab> slabs_;
};

// Appends slabs in address order, merging a slab into the previous one when they touch and allow
// the same services. Service sets are interned by content, so "same" is one pointer comparison,
// and each distinct pair of input service sets is combined once (memo).
class EgressSet::Builder {
public:
    explicit Builder(Op op) : op_(op) {}

    void add(Uint128 first, Uint128 last, const detail::SpanSetPtr& services) {
        if (!services || services->empty()) return;
        detail::SpanSetPtr s = intern(services);
        if (!out_.empty() && out_.back().services == s && out_.back().last.next() == first &&
            out_.back().last != (Uint128::max)()) {
            out_.back().last = last;
            return;
        }
        out_.push_back({first, last, std::move(s)});
    }

    // The services of a piece covered by both inputs.
    detail::SpanSetPtr both(const detail::SpanSetPtr& x, const detail::SpanSetPtr& y) {
        if (x == y) return op_ == Op::subtract ? nullptr : x;
        auto key = std::make_pair(x.get(), y.get());
        auto it = memo_.find(key);
        if (it != memo_.end()) return it->second;
        detail::SpanSet r = op_ == Op::intersect ? detail::span_intersection(*x, *y)
                            : op_ == Op::unite   ? detail::span_union(*x, *y)
                                                 : detail::span_difference(*x, *y);
        detail::SpanSetPtr p = r.empty() ? nullptr : std::make_shared<const detail::SpanSet>(std::move(r));
        memo_.emplace(key, p);
        return p;
    }

    EgressSet finish() {
        EgressSet s;
        s.slabs_ = std::move(out_);
        return s;
    }

private:
    struct Hash {
        std::size_t operator()(const detail::SpanSet& s) const noexcept {
            std::size_t h = s.size();
            for (const auto& sp : s) h = h * 1000003u ^ (std::size_t{sp.first} << 20 ^ sp.last);
            return h;
        }
    };

    detail::SpanSetPtr intern(const detail::SpanSetPtr& p) {
        auto seen = by_pointer_.find(p.get());
        if (seen != by_pointer_.end()) return seen->second;
        std::size_t h = Hash{}(*p);
        detail::SpanSetPtr canonical = p;
        auto range = by_hash_.equal_range(h);
        for (auto it = range.first; it != range.second; ++it)
            if (*it->second == *p) canonical = it->second;
        if (canonical == p) by_hash_.emplace(h, p);
        by_pointer_.emplace(p.get(), canonical);
        keep_.push_back(p);  // keeps the pointer key alive for the builder's lifetime
        return canonical;
    }

    Op op_;
    std::vector<detail::Slab> out_;
    std::map<std::pair<const detail::SpanSet*, const detail::SpanSet*>, detail::SpanSetPtr> memo_;
    std::unordered_map<const detail::SpanSet*, detail::SpanSetPtr> by_pointer_;
    std::unordered_multimap<std::size_t, detail::SpanSetPtr> by_hash_;
    std::vector<detail::SpanSetPtr> keep_;
};

namespace detail {

// The first slab at or after `from` whose last >= key.
inline std::size_t slab_seek(const std::vector<Slab>& s, std::size_t from, Uint128 key) {
    auto it = std::lower_bound(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(), key,
                               [](const Slab& sl, Uint128 k) { return sl.last < k; });
    return static_cast<std::size_t>(it - s.begin());
}

}  // namespace detail

inline EgressSet EgressSet::combine(const EgressSet& a, const EgressSet& b, Op op) {
    Builder out(op);
    if (op == Op::intersect) intersect_into(a, b, out);
    else if (op == Op::unite) unite_into(a, b, out);
    else subtract_into(a, b, out);
    return out.finish();
}

inline void EgressSet::intersect_into(const EgressSet& a, const EgressSet& b, Builder& out) {
    const auto& x = a.slabs_;
    const auto& y = b.slabs_;
    std::size_t i = 0, j = 0;
    while (i < x.size() && j < y.size()) {
        if (x[i].last < y[j].first) {
            i = detail::slab_seek(x, i, y[j].first);  // skip x's slabs that end before y[j]
            continue;
        }
        if (y[j].last < x[i].first) {
            j = detail::slab_seek(y, j, x[i].first);
            continue;
        }
        Uint128 lo = (std::max)(x[i].first, y[j].first);
        Uint128 hi = (std::min)(x[i].last, y[j].last);
        out.add(lo, hi, out.both(x[i].services, y[j].services));
        bool x_done = x[i].last == hi;
        if (y[j].last == hi) ++j;
        if (x_done) ++i;
    }
}

inline void EgressSet::unite_into(const EgressSet& a, const EgressSet& b, Builder& out) {
    const auto& x = a.slabs_;
    const auto& y = b.slabs_;
    std::size_t i = 0, j = 0;
    Uint128 xs = x.empty() ? Uint128{} : x[0].first;  // where the unconsumed part of x[i] starts
    Uint128 ys = y.empty() ? Uint128{} : y[0].first;
    auto next_x = [&] { if (++i < x.size()) xs = x[i].first; };
    auto next_y = [&] { if (++j < y.size()) ys = y[j].first; };
    while (i < x.size() || j < y.size()) {
        if (j == y.size() || (i < x.size() && x[i].last < ys)) {
            out.add(xs, x[i].last, x[i].services);
            next_x();
        } else if (i == x.size() || y[j].last < xs) {
            out.add(ys, y[j].last, y[j].services);
            next_y();
        } else if (xs < ys) {
            out.add(xs, ys.prev(), x[i].services);
            xs = ys;
        } else if (ys < xs) {
            out.add(ys, xs.prev(), y[j].services);
            ys = xs;
        } else {
            Uint128 hi = (std::min)(x[i].last, y[j].last);
            out.add(xs, hi, out.both(x[i].services, y[j].services));
            bool x_done = x[i].last == hi, y_done = y[j].last == hi;
            if (x_done) next_x();
            else xs = hi.next();
            if (y_done) next_y();
            else ys = hi.next();
        }
    }
}

inline void EgressSet::subtract_into(const EgressSet& a, const EgressSet& b, Builder& out) {
    const auto& y = b.slabs_;
    std::size_t j = 0;
    for (const detail::Slab& s : a.slabs_) {
        j = detail::slab_seek(y, j, s.first);  // skip y's slabs between a's
        Uint128 cursor = s.first;
        bool done = false;
        for (; j < y.size() && y[j].first <= s.last; ++j) {
            if (y[j].first > cursor) {
                out.add(cursor, y[j].first.prev(), s.services);
                cursor = y[j].first;
            }
            Uint128 hi = (std::min)(y[j].last, s.last);
            out.add(cursor, hi, out.both(s.services, y[j].services));
            if (hi == s.last) {
                done = true;
                break;  // y[j] may reach into the next slab of a
            }
            cursor = hi.next();
        }
        if (!done) out.add(cursor, s.last, s.services);
    }
}

inline bool EgressSet::admits(const Packet& p) const {
    Uint128 key = detail::unified(p.destination.unmapped());
    std::size_t k = detail::slab_seek(slabs_, 0, key);
    if (k == slabs_.size() || slabs_[k].first > key) return false;
    return detail::span_contains(*slabs_[k].services, detail::service_of(p.transport, p.port));
}

inline bool EgressSet::overlaps(const Cidr& block) const {
    detail::AddressSpan r = detail::unified(block.unmapped());
    std::size_t k = detail::slab_seek(slabs_, 0, r.first);
    return k < slabs_.size() && slabs_[k].first <= r.last;
}

}  // namespace cordon

// Compiled once by libcordon, or here in header-only mode (their span maps and index are most of
// what the egress types cost a translation unit to compile).
#if CORDON_HEADER_ONLY
#include "cordon/impl/egress_build.hpp"  // from_rule, from_rules, from_egress
#include "cordon/impl/egress_form.hpp"   // expressible_part, to_egress
#include "cordon/impl/egress_index.hpp"  // EgressSet::Index
#endif
