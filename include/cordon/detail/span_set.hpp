// SPDX-License-Identifier: MIT
// cordon: sets of 32-bit integers as sorted, disjoint, non-adjacent closed intervals (the service axis of EgressSet).
#pragma once

#include <algorithm>  // std::lower_bound
#include <cstddef>    // std::size_t
#include <cstdint>
#include <vector>

namespace cordon::detail {

struct Span {
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    friend bool operator==(const Span& a, const Span& b) { return a.first == b.first && a.last == b.last; }
    friend bool operator!=(const Span& a, const Span& b) { return !(a == b); }
    friend bool operator<(const Span& a, const Span& b) {
        return a.first != b.first ? a.first < b.first : a.last < b.last;
    }
};

/// Canonical when sorted, disjoint and non-adjacent: equal sets are then equal vectors.
using SpanSet = std::vector<Span>;

// Appends [first, last] to a canonical set whose spans all start at or before `first`.
inline void span_append(SpanSet& out, std::uint32_t first, std::uint32_t last) {
    if (!out.empty() && first <= out.back().last + 1) {
        if (last > out.back().last) out.back().last = last;
        return;
    }
    out.push_back({first, last});
}

/// Sorts and merges arbitrary spans into canonical form.
inline SpanSet span_normalize(std::vector<Span> spans) {
    std::sort(spans.begin(), spans.end());
    SpanSet out;
    out.reserve(spans.size());
    for (const Span& s : spans) span_append(out, s.first, s.last);
    return out;
}

// The first span at or after `from` whose last >= value (spans are sorted by last as well).
inline std::size_t span_seek(const SpanSet& s, std::size_t from, std::uint32_t value) {
    auto it = std::lower_bound(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(), value,
                               [](const Span& sp, std::uint32_t v) { return sp.last < v; });
    return static_cast<std::size_t>(it - s.begin());
}

inline bool span_contains(const SpanSet& s, std::uint32_t value) {
    std::size_t k = span_seek(s, 0, value);
    return k < s.size() && s[k].first <= value;
}

inline SpanSet span_union(const SpanSet& a, const SpanSet& b) {
    SpanSet out;
    out.reserve(a.size() + b.size());
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        bool take_a = j == b.size() || (i < a.size() && a[i].first <= b[j].first);
        const Span& s = take_a ? a[i++] : b[j++];
        span_append(out, s.first, s.last);
    }
    return out;
}

// Walks the smaller set and binary-searches the larger, so a few ports against many cost
// O(small * log large), not O(large): this is what keeps clamping 1,000 rules near-linear.
inline SpanSet span_intersection(const SpanSet& a, const SpanSet& b) {
    const SpanSet& small = a.size() <= b.size() ? a : b;
    const SpanSet& large = a.size() <= b.size() ? b : a;
    SpanSet out;
    std::size_t k = 0;
    for (const Span& s : small) {
        k = span_seek(large, k, s.first);
        for (; k < large.size() && large[k].first <= s.last; ++k) {
            out.push_back({(std::max)(s.first, large[k].first), (std::min)(s.last, large[k].last)});
            if (large[k].last > s.last) break;  // it may reach into the next span of `small`
        }
    }
    return out;
}

inline bool span_intersects(const SpanSet& a, const SpanSet& b) {
    const SpanSet& small = a.size() <= b.size() ? a : b;
    const SpanSet& large = a.size() <= b.size() ? b : a;
    std::size_t k = 0;
    for (const Span& s : small) {
        k = span_seek(large, k, s.first);
        if (k < large.size() && large[k].first <= s.last) return true;
    }
    return false;
}

inline SpanSet span_difference(const SpanSet& a, const SpanSet& b) {
    SpanSet out;
    std::size_t k = 0;
    for (const Span& s : a) {
        k = span_seek(b, k, s.first);
        std::uint32_t cursor = s.first;
        bool done = false;
        for (; k < b.size() && b[k].first <= s.last; ++k) {
            if (b[k].first > cursor) out.push_back({cursor, b[k].first - 1});
            if (b[k].last >= s.last) {
                done = true;
                break;  // b[k] may also cover the start of the next span of `a`
            }
            cursor = b[k].last + 1;
        }
        if (!done) out.push_back({cursor, s.last});
    }
    return out;
}

/// a is a subset of b.
inline bool span_subset(const SpanSet& a, const SpanSet& b) {
    std::size_t k = 0;
    for (const Span& s : a) {
        k = span_seek(b, k, s.first);
        if (k == b.size() || b[k].first > s.first || b[k].last < s.last) return false;
    }
    return true;
}

}  // namespace cordon::detail
