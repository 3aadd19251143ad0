// SPDX-License-Identifier: MIT
// cordon: the unified IPv4/IPv6 address axis of EgressSet, and the fewest MXC peers (CIDR, optionally with except) for a set of addresses on it.
#pragma once

#include <algorithm>  // std::stable_partition
#include <cstddef>
#include <utility>
#include <vector>

#include "cordon/cidr.hpp"
#include "cordon/egress_rule.hpp"
#include "cordon/ip_address.hpp"

namespace cordon::detail {

// One axis for both families: IPv6 addresses as they are, IPv4 addresses at ::ffff:a.b.c.d. The
// executor turns IPv4-mapped peers into IPv4 rules and such packets travel as IPv4, so a mapped
// address and its IPv4 address are the same destination, and are one point here.
inline constexpr Uint128 mapped_base{0, 0xffff00000000ull};
inline constexpr Uint128 mapped_last{0, 0xffffffffffffull};

struct AddressSpan {
    Uint128 first;
    Uint128 last;
};

inline Uint128 unified(IpAddress a) noexcept {
    return a.family() == IpFamily::v4 ? (mapped_base | a.value()) : a.value();
}

inline AddressSpan unified(const Cidr& c) noexcept { return {unified(c.first()), unified(c.last())}; }

/// An IPv6 block shorter than /96 that contains ::ffff:0:0/96: the executor refuses it (an ip6tables
/// rule would not see the IPv4 packets of that range).
inline bool straddles_mapped(const Cidr& c) noexcept {
    return c.family() == IpFamily::v6 && c.prefix() < 96 && c.contains(IpAddress::v6(mapped_base));
}

// The block of 2^host_bits addresses at `start` as a Cidr of the family it belongs to.
inline Cidr block_cidr(Uint128 start, unsigned host_bits) {
    bool v4 = host_bits <= 32 && start >= mapped_base && start <= mapped_last;
    IpAddress a = v4 ? IpAddress::v4(static_cast<std::uint32_t>(start.lo)) : IpAddress::v6(start);
    auto c = Cidr::make(a, (v4 ? 32u : 128u) - host_bits);
    return c ? *c : Cidr();  // always valid: callers pass aligned blocks
}

// Minimal peers for canonical (sorted, disjoint, non-adjacent) spans, by a walk of the binary trie of
// prefixes that visits only the blocks a span boundary cuts. At each such block it keeps the cheaper
// of "best of both halves" and "the block with except = the minimal cover of its gaps", counted in
// CIDR strings; ties keep the form without except. Depth <= 128, so recursion is bounded.
class PeerCover {
public:
    explicit PeerCover(const std::vector<AddressSpan>& spans) : spans_(spans) {}

    std::vector<Peer> run() {
        Node root = solve(Uint128{}, 0, 0, spans_.size());
        // IPv4 first, then IPv6, each in address order.
        std::stable_partition(root.peers.begin(), root.peers.end(),
                              [](const Peer& p) { return p.cidr.family() == IpFamily::v4; });
        return std::move(root.peers);
    }

private:
    struct Node {
        std::size_t best = 0;   // CIDR strings in `peers`
        std::size_t holes = 0;  // size of the minimal cover of the block's uncovered part
        std::vector<Peer> peers;
    };

    // A block may be written as one CIDR unless it is an IPv6 block wider than, and containing,
    // ::ffff:0:0/96 (which the executor refuses); the /96 itself is written 0.0.0.0/0.
    static bool writable(Uint128 base, unsigned depth) {
        return depth >= 96 || (mapped_base & ~Uint128::low_mask(128 - depth)) != base;
    }

    Node solve(Uint128 base, unsigned depth, std::size_t lo, std::size_t hi) {
        Node n;
        if (lo == hi) {
            n.holes = 1;
            return n;
        }
        Uint128 node_last = base | Uint128::low_mask(128 - depth);
        bool full = hi - lo == 1 && spans_[lo].first <= base && spans_[lo].last >= node_last;
        bool can_write = writable(base, depth);
        if (full && can_write) {
            n.best = 1;
            n.peers.push_back(Peer{block_cidr(base, 128 - depth), {}});
            return n;
        }
        if (Node deeper; descend(base, depth, lo, hi, deeper)) return deeper;
        Uint128 mid = base | Uint128::low_mask(127 - depth).next();  // first address of the upper half
        std::size_t left_hi = lo, right_lo = lo;
        while (left_hi < hi && spans_[left_hi].first < mid) ++left_hi;
        while (right_lo < hi && spans_[right_lo].last < mid) ++right_lo;
        Node left = solve(base, depth + 1, lo, left_hi);
        Node right = solve(mid, depth + 1, right_lo, hi);
        n.holes = left.holes + right.holes;
        std::size_t plain = left.best + right.best;
        if (can_write && 1 + n.holes < plain) {
            n.best = 1 + n.holes;
            n.peers.push_back(Peer{block_cidr(base, 128 - depth), gaps(base, node_last, lo, hi)});
            return n;
        }
        n.best = plain;
        n.peers = std::move(left.peers);
        for (Peer& p : right.peers) n.peers.push_back(std::move(p));
        return n;
    }

    // When every span of the block lies in one half, the other half is a hole and the block with
    // except can never beat its nonempty half, so go straight to the smallest block holding them
    // (a /32 is then 1 step away, not 128), adding one hole per level skipped.
    bool descend(Uint128 base, unsigned depth, std::size_t lo, std::size_t hi, Node& out) {
        Uint128 node_last = base | Uint128::low_mask(128 - depth);
        Uint128 first = spans_[lo].first > base ? spans_[lo].first : base;
        Uint128 last = spans_[hi - 1].last < node_last ? spans_[hi - 1].last : node_last;
        unsigned host_bits = (first ^ last).bit_width();
        if (host_bits >= 128 - depth) return false;  // both halves are used
        unsigned inner = 128 - host_bits;
        out = solve(first & ~Uint128::low_mask(host_bits), inner, lo, hi);
        out.holes += inner - depth;
        return true;
    }

    // The minimal cover of [base, node_last] minus spans_[lo, hi).
    std::vector<Cidr> gaps(Uint128 base, Uint128 node_last, std::size_t lo, std::size_t hi) const {
        std::vector<Cidr> out;
        auto add = [&out](Uint128 first, Uint128 last) {
            cover_range(first, last, 128, [&out](Uint128 start, unsigned k) { out.push_back(block_cidr(start, k)); });
        };
        Uint128 cursor = base;
        bool open = true;  // cursor is still inside the block
        for (std::size_t i = lo; i < hi && open; ++i) {
            if (spans_[i].first > cursor) add(cursor, spans_[i].first.prev());
            if (spans_[i].last >= node_last) open = false;
            else cursor = spans_[i].last.next();
        }
        if (open) add(cursor, node_last);
        return out;
    }

    const std::vector<AddressSpan>& spans_;
};

/// Peers whose union is exactly the canonical `spans` on the unified axis.
inline std::vector<Peer> cover_peers(const std::vector<AddressSpan>& spans) { return PeerCover(spans).run(); }

}  // namespace cordon::detail
