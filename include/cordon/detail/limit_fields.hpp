// SPDX-License-Identifier: MIT
// cordon: the resource limits by name (ceiling `limits`, CORDON_LIMITS, the report) and their defaults.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cordon/run_limits.hpp"

namespace cordon::detail {

struct LimitField {
    std::string_view name;  ///< the ceiling's key
    std::optional<std::uint64_t> Limits::*member;
    std::optional<std::uint64_t> by_default;  ///< when the ceiling does not name it
};

// Defaults bound what a careless ceiling would leave open without breaking ordinary programs:
// processes only where the sandbox has a uid of its own (RLIMIT_NPROC counts every process of the
// uid, so under the operator's own uid it would count their desktop too); memory has no default
// because only a cgroup bounds a whole tree, and where there is none a memory limit is refused.
inline constexpr std::array<LimitField, 6> limit_fields{{
    {"processes", &Limits::processes, std::uint64_t{512}},
    {"addressSpaceBytes", &Limits::address_space_bytes, std::nullopt},
    {"memoryBytes", &Limits::memory_bytes, std::nullopt},
    {"cpuSeconds", &Limits::cpu_seconds, std::nullopt},
    {"fileSizeBytes", &Limits::file_size_bytes, std::uint64_t{4} << 30},
    {"openFiles", &Limits::open_files, std::uint64_t{1024}},
}};

/// The limit a ceiling sets for `field`: its own value when it names one (0 = explicitly none),
/// else the default (processes only when the sandbox has a uid of its own).
inline std::optional<std::uint64_t> ceiling_limit(const LimitField& field, const Limits& ceiling_limits,
                                                  bool dedicated_uid) {
    if (auto v = ceiling_limits.*field.member) return *v == 0 ? std::nullopt : v;
    if (field.member == &Limits::processes && !dedicated_uid) return std::nullopt;
    return field.by_default;
}

}  // namespace cordon::detail
