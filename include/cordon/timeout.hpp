// SPDX-License-Identifier: MIT
// cordon: a timeout where MXC's 0 means "no timeout", so it can never be mistaken for the smallest value.
#pragma once

#include <cstdint>  // std::uint32_t

#include "cordon/config.hpp"

namespace cordon {

/// A run timeout in milliseconds, or none. MXC encodes "none" as 0 in `process.timeout`; this type
/// keeps that spelling out of comparisons: none is larger than every finite timeout.
class Timeout {
public:
    /// No timeout (MXC's 0). Also the default: absence of `process.timeout` means none.
    constexpr Timeout() noexcept = default;
    /// The largest finite timeout: `process.timeout` is an unsigned 32-bit count of milliseconds.
    static constexpr std::uint32_t max_ms = 4294967295u;
    static constexpr Timeout none() noexcept { return Timeout(); }
    /// A finite timeout; `milliseconds == 0` is the MXC spelling of none and yields none.
    static constexpr Timeout ms(std::uint32_t milliseconds) noexcept { return Timeout(milliseconds); }

    constexpr bool is_none() const noexcept { return ms_ == 0; }
    /// Milliseconds, or 0 for none (the MXC wire value).
    constexpr std::uint32_t wire_value() const noexcept { return ms_; }

    friend constexpr bool operator==(Timeout a, Timeout b) noexcept { return a.ms_ == b.ms_; }
    friend constexpr bool operator!=(Timeout a, Timeout b) noexcept { return a.ms_ != b.ms_; }
    /// Ordering with none as infinity.
    friend constexpr bool operator<(Timeout a, Timeout b) noexcept {
        if (a.is_none()) return false;
        return b.is_none() || a.ms_ < b.ms_;
    }
    friend constexpr bool operator<=(Timeout a, Timeout b) noexcept { return !(b < a); }

private:
    constexpr explicit Timeout(std::uint32_t milliseconds) noexcept : ms_(milliseconds) {}
    std::uint32_t ms_ = 0;
};

/// The stricter of two timeouts (none counts as infinite, so min(none, 30 s) is 30 s).
constexpr Timeout stricter(Timeout a, Timeout b) noexcept { return b < a ? b : a; }

}  // namespace cordon
