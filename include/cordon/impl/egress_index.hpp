// SPDX-License-Identifier: MIT
// cordon: EgressSet::Index, a segment tree over a set's slabs that answers many small "meets / contains / meet" queries in O(log n) each.
#pragma once

#include <algorithm>  // std::upper_bound, std::max, std::min
#include <cstddef>
#include <memory>  // std::make_shared
#include <utility>  // std::pair
#include <vector>

#include "cordon/detail/span_set.hpp"
#include "cordon/egress_set.hpp"

namespace cordon {

/// A read-only index of a set for many queries by small sets (one rule each): whether a query set
/// meets the indexed one, lies inside it, and what their intersection is. Each node of a segment
/// tree over the slabs holds the union and the intersection of its slabs' services and whether its
/// slabs leave an address gap, so a query visits O(log n) nodes per query slab, plus the slabs it
/// actually hits, instead of every slab its addresses span. This is what keeps the per-rule
/// verdicts of clamp_egress near-linear when wide rules meet a ceiling of many narrow ones.
/// The indexed set must outlive the index.
class EgressSet::Index {
public:
    explicit Index(const EgressSet& set) : slabs_(set.slabs_) {
        nodes_.reserve(2 * slabs_.size());
        if (!slabs_.empty()) build(0, slabs_.size());
    }

    /// (q & indexed) is not empty.
    bool meets(const EgressSet& q) const {
        for (const detail::Slab& s : q.slabs_) {
            auto [l, r] = overlapping(s);
            if (l < r && meets(0, 0, slabs_.size(), l, r, *s.services)) return true;
        }
        return false;
    }

    /// q is a subset of the indexed set.
    bool contains(const EgressSet& q) const {
        for (const detail::Slab& s : q.slabs_) {
            auto [l, r] = overlapping(s);
            if (l == r || slabs_[l].first > s.first || slabs_[r - 1].last < s.last) return false;
            Cover c;
            cover(0, 0, slabs_.size(), l, r, *s.services, c);
            if (!c.ok) return false;
        }
        return true;
    }

    /// q & indexed, visiting only the slabs that share services with q.
    EgressSet meet(const EgressSet& q) const {
        Builder out(Op::intersect);
        for (const detail::Slab& s : q.slabs_) {
            auto [l, r] = overlapping(s);
            if (l < r) collect(0, 0, slabs_.size(), l, r, s, out);
        }
        return out.finish();
    }

private:
    // Service sets are shared, not copied, where the slabs below a node share them (the usual case:
    // the slabs of one rule have one set), so the index stays about as small as the set.
    struct Node {
        detail::SpanSetPtr any;  // union of the slabs' services
        detail::SpanSetPtr all;  // intersection of the slabs' services
        bool gapless = true;  // the slabs touch one another
        Uint128 first, last;
        std::size_t left = 0, right = 0;  // children (nodes are stored parent first: 2n - 1 of them)
    };
    struct Cover {
        bool ok = true;
        bool started = false;
        Uint128 last;  // end of the nodes accepted so far
    };

    // Slabs [l, r) whose addresses overlap s.
    std::pair<std::size_t, std::size_t> overlapping(const detail::Slab& s) const {
        std::size_t l = detail::slab_seek(slabs_, 0, s.first);
        std::size_t r = l;
        auto it = std::upper_bound(slabs_.begin() + static_cast<std::ptrdiff_t>(l), slabs_.end(), s.last,
                                   [](Uint128 v, const detail::Slab& sl) { return v < sl.first; });
        r = static_cast<std::size_t>(it - slabs_.begin());
        return {l, r};
    }

    std::size_t build(std::size_t lo, std::size_t hi) {
        std::size_t id = nodes_.size();
        nodes_.emplace_back();
        if (hi - lo == 1) {
            Node& n = nodes_[id];
            n.any = n.all = slabs_[lo].services;
            n.first = slabs_[lo].first;
            n.last = slabs_[lo].last;
            return id;
        }
        std::size_t mid = lo + (hi - lo) / 2;
        std::size_t left = build(lo, mid);
        std::size_t right = build(mid, hi);
        const Node& a = nodes_[left];
        const Node& b = nodes_[right];
        Node n;
        auto combine = [](const detail::SpanSetPtr& x, const detail::SpanSetPtr& y, bool unite) {
            if (x == y || *x == *y) return x;
            return std::make_shared<const detail::SpanSet>(unite ? detail::span_union(*x, *y)
                                                                 : detail::span_intersection(*x, *y));
        };
        n.any = combine(a.any, b.any, true);
        n.all = combine(a.all, b.all, false);
        n.gapless = a.gapless && b.gapless && a.last.next() == b.first;
        n.first = a.first;
        n.last = b.last;
        n.left = left;
        n.right = right;
        nodes_[id] = std::move(n);
        return id;
    }

    bool meets(std::size_t node, std::size_t lo, std::size_t hi, std::size_t l, std::size_t r,
               const detail::SpanSet& services) const {
        if (r <= lo || hi <= l) return false;
        if (l <= lo && hi <= r) return detail::span_intersects(*nodes_[node].any, services);
        std::size_t mid = lo + (hi - lo) / 2;
        return meets(nodes_[node].left, lo, mid, l, r, services) || meets(nodes_[node].right, mid, hi, l, r, services);
    }

    // Every slab in [l, r) must hold all of `services`, with no address gap between them.
    void cover(std::size_t node, std::size_t lo, std::size_t hi, std::size_t l, std::size_t r,
               const detail::SpanSet& services, Cover& c) const {
        if (!c.ok || r <= lo || hi <= l) return;
        const Node& n = nodes_[node];
        if (l <= lo && hi <= r) {
            bool joined = !c.started || c.last.next() == n.first;
            c.ok = n.gapless && joined && detail::span_subset(services, *n.all);
            c.started = true;
            c.last = n.last;
            return;
        }
        std::size_t mid = lo + (hi - lo) / 2;
        cover(n.left, lo, mid, l, r, services, c);
        cover(n.right, mid, hi, l, r, services, c);
    }

    void collect(std::size_t node, std::size_t lo, std::size_t hi, std::size_t l, std::size_t r,
                 const detail::Slab& q, Builder& out) const {
        if (r <= lo || hi <= l || !detail::span_intersects(*nodes_[node].any, *q.services)) return;
        if (hi - lo == 1) {
            const detail::Slab& s = slabs_[lo];
            out.add((std::max)(s.first, q.first), (std::min)(s.last, q.last), out.both(s.services, q.services));
            return;
        }
        std::size_t mid = lo + (hi - lo) / 2;
        collect(nodes_[node].left, lo, mid, l, r, q, out);
        collect(nodes_[node].right, mid, hi, l, r, q, out);
    }

    const std::vector<detail::Slab>& slabs_;
    std::vector<Node> nodes_;
};

}  // namespace cordon
