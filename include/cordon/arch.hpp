// SPDX-License-Identifier: MIT
// cordon: CPU architecture names: every OS spelling mapped to the MXC package's folder name and pin key.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/detail/ascii.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/error.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/utsname.h>
#endif

namespace cordon {

/// The architectures `@microsoft/mxc-sdk` ships executors for (`bin/x64/`, `bin/arm64/`).
enum class Arch : std::uint8_t { x64, arm64 };

/// to_string: the package's folder name, "x64" or "arm64". The aliases (lower case) are how OSes
/// report them: Windows PROCESSOR_ARCHITECTURE (AMD64, ARM64), Linux uname -m (x86_64, aarch64,
/// arm64 on some kernels), macOS uname -m (x86_64, arm64), node's process.arch (x64, arm64), and
/// Debian's names. Big-endian aarch64_be is deliberately absent: the executors are little-endian.
template <>
struct EnumNames<Arch> {
    static constexpr std::array<EnumName<Arch>, 5> table{{
        {"x64", Arch::x64},
        {"arm64", Arch::arm64},
        {"amd64", Arch::x64},
        {"x86_64", Arch::x64},
        {"aarch64", Arch::arm64},
    }};
};

/// Maps an architecture as an OS reports it (`AMD64`, `ARM64`, `x86_64`, `aarch64`, `arm64`, `x64`;
/// case-insensitive) to the package's name. Errors: unavailable (no MXC executor exists for it, e.g. `i686`).
inline Result<Arch> normalize_arch(std::string_view reported) {
    for (const auto& s : EnumNames<Arch>::table)
        if (detail::iequals(s.name, reported)) return s.value;
    return make_error(ErrorCode::unavailable,
                      "no MXC executor is published for CPU architecture '" + std::string(reported) +
                          "' (only x64 and arm64)",
                      std::string(reported));
}

/// The architecture of the machine, as the kernel reports it (so an x64 build running under
/// emulation still reports the machine). Errors: unavailable (an architecture MXC does not ship).
inline Result<Arch> host_arch() {
#if defined(_WIN32)
    SYSTEM_INFO info{};
    ::GetNativeSystemInfo(&info);
    switch (info.wProcessorArchitecture) {
        case PROCESSOR_ARCHITECTURE_AMD64: return normalize_arch("AMD64");
        case 12:  // PROCESSOR_ARCHITECTURE_ARM64, missing from older SDK headers
            return normalize_arch("ARM64");
        default: return normalize_arch("processor-architecture-" + std::to_string(info.wProcessorArchitecture));
    }
#else
    struct utsname u {};
    if (::uname(&u) != 0) return make_error(ErrorCode::unavailable, "uname() failed; cannot tell the CPU architecture");
    return normalize_arch(u.machine);
#endif
}

}  // namespace cordon
