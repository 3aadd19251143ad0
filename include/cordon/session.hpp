// SPDX-License-Identifier: MIT
// cordon: the Phase 2 seam for isolation sessions and agent identity binding. Typed, not built.
#pragma once

#include <string>
#include <string_view>

#include "cordon/backend.hpp"
#include "cordon/error.hpp"

namespace cordon {

/// What a Phase 2 session runner would need from the platform, and why it is not reachable today.
/// Each string names the missing surface so an operator reading the error knows what to wait for.
struct SessionSurface {
    std::string_view name;
    std::string_view missing;
};

inline constexpr SessionSurface session_surfaces[] = {
    {"MXC isolation_session backend",
     "reachable only through wxc-exec's state-aware requests (phase provision/start/exec/stop/deprovision), "
     "Windows only; the one-shot contracts cordon speaks (0.6.0-alpha, 0.7.0-alpha) reject `isolation_session` "
     "and `phase`, and contract 0.9.0-alpha's one-shot form requires an all-allow network"},
    {"agent identity binding (Entra)",
     "no MXC contract carries an agent identity and no executor flag binds one to a container, so there is "
     "nothing to verify a binding against"},
};

/// Binds an agent identity to a session-isolated sandbox. Phase 2: always the unavailable error,
/// naming the platform surfaces that are missing. Phase 1 runners bind nothing (Runner::identity_binding).
inline Status session_identity_binding(std::string_view agent_id) {
    std::string message = "session isolation with identity binding for agent '" + std::string(agent_id) +
                          "' is not available (Phase 2): ";
    bool first = true;
    for (const auto& surface : session_surfaces) {
        message += (first ? "" : "; ") + std::string(surface.name) + ": " + std::string(surface.missing);
        first = false;
    }
    return make_error(ErrorCode::unavailable, std::move(message), std::string(to_string(Backend::session)));
}

}  // namespace cordon
