// SPDX-License-Identifier: MIT
// cordon: the clamp report, one decision per requested item (kept / narrowed / downgraded / dropped, and why).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/config.hpp"

namespace cordon {

/// kept: granted as asked. narrowed: replaced by something smaller (a ceiling root below it, a
/// shorter timeout, a parent-directory grant where the backend cannot grant files). downgraded:
/// read-write became read-only. dropped: not granted at all (the result says what applies instead).
enum class Verdict : std::uint8_t { kept, narrowed, downgraded, dropped };

constexpr std::string_view to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::kept: return "kept";
        case Verdict::narrowed: return "narrowed";
        case Verdict::downgraded: return "downgraded";
        case Verdict::dropped: return "dropped";
    }
    return "?";
}

/// Where part of a requested item ended up: a JSON pointer into the clamped config's field
/// ("/filesystem/readonlyPaths") and the value placed there.
struct ClampResultItem {
    std::string field;
    std::string value;
    friend bool operator==(const ClampResultItem& a, const ClampResultItem& b) {
        return a.field == b.field && a.value == b.value;
    }
};

struct ClampDecision {
    std::string field;      ///< JSON pointer into the request, e.g. "/filesystem/readwritePaths/0"
    std::string requested;  ///< the requested value as text
    Verdict verdict = Verdict::dropped;
    std::vector<ClampResultItem> result;  ///< what it became; empty when nothing of it remains
    std::string reason;                   ///< why, in one sentence; empty when kept as asked
};

struct ClampReport {
    std::vector<ClampDecision> decisions;

    /// The decision about one request field (JSON pointer), or nullptr.
    const ClampDecision* find(std::string_view field) const noexcept {
        for (const auto& d : decisions)
            if (d.field == field) return &d;
        return nullptr;
    }

    std::size_t count(Verdict v) const noexcept {
        std::size_t n = 0;
        for (const auto& d : decisions) n += d.verdict == v;
        return n;
    }

    /// {"summary":{"kept":N,...},"decisions":[{"field","requested","verdict","result":[{"field","value"}],"reason"}]}
    std::string to_json() const {
        boost::json::object summary;
        for (Verdict v : {Verdict::kept, Verdict::narrowed, Verdict::downgraded, Verdict::dropped})
            summary[to_string(v)] = static_cast<std::uint64_t>(count(v));
        boost::json::array list;
        for (const auto& d : decisions) {
            boost::json::array result;
            for (const auto& r : d.result) result.push_back(boost::json::object{{"field", r.field}, {"value", r.value}});
            boost::json::object o{{"field", d.field}, {"requested", d.requested}, {"verdict", to_string(d.verdict)},
                                  {"result", std::move(result)}};
            if (!d.reason.empty()) o["reason"] = d.reason;
            list.push_back(std::move(o));
        }
        return boost::json::serialize(boost::json::object{{"summary", std::move(summary)}, {"decisions", std::move(list)}});
    }
};

}  // namespace cordon
