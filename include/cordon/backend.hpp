// SPDX-License-Identifier: MIT
// cordon: the containment backends cordon can drive, their names, and the host's default.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/policy.hpp"

namespace cordon {

/// A backend plugin (backends/<name>/). `session` is the Phase 2 isolation-session seam: it has a
/// name but no runner (see session.hpp).
enum class Backend : std::uint8_t { bubblewrap, seatbelt, processcontainer, session };

template <>
struct EnumNames<Backend> {
    static constexpr std::array<EnumName<Backend>, 4> table{{
        {"bubblewrap", Backend::bubblewrap},
        {"seatbelt", Backend::seatbelt},
        {"processcontainer", Backend::processcontainer},
        {"session", Backend::session},
    }};
};

constexpr std::optional<Backend> backend_from_string(std::string_view name) noexcept {
    return enum_from_string<Backend>(name);
}

/// The backend `make_runner()` picks on the machine cordon was compiled for.
constexpr Backend host_backend() noexcept {
#if defined(_WIN32)
    return Backend::processcontainer;
#elif defined(__APPLE__)
    return Backend::seatbelt;
#else
    return Backend::bubblewrap;
#endif
}

/// The MXC `containment` value that selects this backend explicitly.
constexpr Containment containment_of(Backend b) noexcept {
    switch (b) {
        case Backend::bubblewrap: return Containment::bubblewrap;
        case Backend::seatbelt: return Containment::seatbelt;
        case Backend::processcontainer: return Containment::processcontainer;
        case Backend::session: return Containment::process;
    }
    return Containment::process;
}

}  // namespace cordon
