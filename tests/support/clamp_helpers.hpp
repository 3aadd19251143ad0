// SPDX-License-Identifier: MIT
// Test support: building ceilings, requests and capabilities for clamp tests in a few words.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::test {

inline Ceiling lexical_ceiling(PathStyle style, const std::string& json) {
    auto c = parse_ceiling(json, CeilingOptions{style, false});
    REQUIRE_MESSAGE(c.has_value(), (json + " -> " + (c ? std::string() : c.error().to_string())));
    return *c;
}

inline Policy request_of(const std::string& json) {
    auto p = from_mxc_json(json);
    REQUIRE_MESSAGE(p.has_value(), (json + " -> " + (p ? std::string() : p.error().to_string())));
    return *p;
}

inline Capabilities caps_of(Backend backend = Backend::bubblewrap, const char* sdk = "0.9.0") {
    return capabilities_for(backend, sdk).value();
}

/// Clamps lexically in `style`; the outcome must be a success and must emit a valid config.
inline ClampOutcome clamp_ok(const Policy& request, const Ceiling& ceiling, const Capabilities& caps,
                             ClampOptions options) {
    auto out = clamp(request, ceiling, caps, options);
    REQUIRE_MESSAGE(out.has_value(), (out ? std::string() : out.error().to_string()));
    auto json = to_mxc_json(out->policy, emit_contract(out->policy, caps.sdk_version));  // as that SDK gets it
    REQUIRE_MESSAGE(json.has_value(), (json ? std::string() : json.error().to_string()));
    return *out;
}

inline ClampOptions lexical(PathStyle style) { return ClampOptions::of(style, false); }

/// A JSON string literal of `s` (paths with backslashes, quotes).
inline std::string js(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace cordon::test
