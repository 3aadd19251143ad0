// SPDX-License-Identifier: MIT
// cordon: the clamp report, one decision per requested item (kept / narrowed / downgraded / dropped, and why).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/detail/ordinal_upcase.hpp"

namespace cordon {

/// kept: granted as asked. narrowed: replaced by something smaller (a ceiling root below it, a
/// shorter timeout, a parent-directory grant where the backend cannot grant files). downgraded:
/// read-write became read-only. dropped: not granted at all (the result says what applies instead).
enum class Verdict : std::uint8_t { kept, narrowed, downgraded, dropped };

template <>
struct EnumNames<Verdict> {
    static constexpr std::array<EnumName<Verdict>, 4> table{{
        {"kept", Verdict::kept}, {"narrowed", Verdict::narrowed},
        {"downgraded", Verdict::downgraded}, {"dropped", Verdict::dropped}}};
};

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
    /// The ceiling that bounded the request (Ceiling::source): its file, or "environment CORDON_*".
    std::string ceiling;

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

    /// {"ceiling":"...","summary":{"kept":N,...},"decisions":[{"field","requested","verdict",
    /// "result":[{"field","value"}],"reason"}]}; "ceiling" only when known.
    std::string to_json() const {
        std::size_t counts[4] = {0, 0, 0, 0};
        std::size_t size = 128 + ceiling.size();  // one allocation: the text is about the size of its strings
        for (const auto& d : decisions) {
            ++counts[static_cast<std::size_t>(d.verdict)];
            size += 64 + d.field.size() + d.requested.size() + d.reason.size();
            for (const auto& r : d.result) size += 24 + r.field.size() + r.value.size();
        }
        std::string out;
        out.reserve(size);
        out += '{';
        if (!ceiling.empty()) {
            out += "\"ceiling\":";
            append_json_string(out, ceiling);
            out += ',';
        }
        out += "\"summary\":{";
        for (Verdict v : {Verdict::kept, Verdict::narrowed, Verdict::downgraded, Verdict::dropped}) {
            out += v == Verdict::kept ? "\"" : ",\"";
            out += to_string(v);
            out += "\":";
            out += std::to_string(counts[static_cast<std::size_t>(v)]);
        }
        out += "},\"decisions\":[";
        for (std::size_t i = 0; i < decisions.size(); ++i) {
            const ClampDecision& d = decisions[i];
            out += i ? ",{\"field\":" : "{\"field\":";
            append_json_string(out, d.field);
            out += ",\"requested\":";
            append_json_string(out, d.requested);
            out += ",\"verdict\":\"";
            out += to_string(d.verdict);
            out += "\",\"result\":[";
            for (std::size_t k = 0; k < d.result.size(); ++k) {
                out += k ? ",{\"field\":" : "{\"field\":";
                append_json_string(out, d.result[k].field);
                out += ",\"value\":";
                append_json_string(out, d.result[k].value);
                out += '}';
            }
            out += ']';
            if (!d.reason.empty()) {
                out += ",\"reason\":";
                append_json_string(out, d.reason);
            }
            out += '}';
        }
        out += "]}";
        return out;
    }

private:
    // Strings here come from parsed JSON, paths or cordon's own text; control characters and
    // bytes that are not UTF-8 are escaped so the report is always valid JSON. Runs of plain
    // ASCII (nearly everything) are appended at once.
    static void append_json_string(std::string& out, std::string_view s) {
        static const char hex[] = "0123456789abcdef";
        out += '"';
        // 1: copied as is (printable ASCII but '"' and '\\'); a table keeps the scan to a load per byte.
        static constexpr struct Plain {
            bool is[256];
            constexpr Plain() : is() {
                for (int c = 0x20; c < 0x80; ++c) is[c] = c != '"' && c != '\\';
            }
        } plain_byte;
        std::size_t plain = 0;  // start of the pending run of bytes that need no escaping
        for (std::size_t i = 0; i < s.size(); ++i) {
            auto c = static_cast<unsigned char>(s[i]);
            if (plain_byte.is[c]) continue;
            out.append(s.data() + plain, i - plain);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                std::size_t j = i;
                std::uint32_t cp;
                if (detail::utf8_next(s, j, cp)) {
                    out.append(s.data() + i, j - i);
                    i = j - 1;
                } else {
                    out += "\\ufffd";  // not UTF-8 (a POSIX path may hold any bytes)
                }
            }
            plain = i + 1;
        }
        out.append(s.data() + plain, s.size() - plain);
        out += '"';
    }
};

}  // namespace cordon
