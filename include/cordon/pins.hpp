// SPDX-License-Identifier: MIT
// cordon: the pin manifest: SHA-256 of every MXC executor cordon will run, per SDK version, OS and arch.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cordon/arch.hpp"
#include "cordon/config.hpp"
#include "cordon/contract.hpp"

namespace cordon {

/// Operating system names as the npm package and node's `process.platform` spell them.
inline constexpr std::string_view os_linux = "linux";
inline constexpr std::string_view os_win32 = "win32";
inline constexpr std::string_view os_darwin = "darwin";

/// The OS cordon was compiled for, in the spelling above.
constexpr std::string_view host_os() noexcept {
#if defined(_WIN32)
    return os_win32;
#elif defined(__APPLE__)
    return os_darwin;
#else
    return os_linux;
#endif
}

/// The executor's file name in `bin/<arch>/` of the package for an OS, or nullopt for an unknown OS.
constexpr std::optional<std::string_view> executor_file_name(std::string_view os) noexcept {
    if (os == os_linux) return std::string_view("lxc-exec");
    if (os == os_win32) return std::string_view("wxc-exec.exe");
    if (os == os_darwin) return std::string_view("mxc-exec-mac");
    return std::nullopt;
}

/// One executor file of one SDK release: key (sdk_version, os, arch), value (sha256, size).
struct ExecutorPin {
    std::string_view sdk_version;  ///< npm version of `@microsoft/mxc-sdk`
    std::string_view os;           ///< "linux", "win32" or "darwin"
    Arch arch;
    std::string_view file;    ///< file name inside `package/bin/<arch>/`
    std::string_view sha256;  ///< lower-case hex
    std::uint64_t size;       ///< bytes
};

/// One SDK release: its npm tarball and the config contracts (of `all_contracts`) its executors accept.
struct SdkRelease {
    std::string_view version;
    std::string_view tarball_sha256;  ///< of `microsoft-mxc-sdk-<version>.tgz`; empty = recorded only, not installable
    std::uint64_t tarball_size;
    std::string_view contracts;  ///< accepted config `version` strings, separated by single spaces
};

// THE PIN TABLES. Digests taken by cordon from `npm pack @microsoft/mxc-sdk@<version>` and checked
// against the study's independent record (docs/executor-trust.md says how to re-take them).
// scripts/setup_sandbox.sh and scripts/setup_sandbox.ps1 read these rows from this file, so keep
// one row per line in exactly this shape; tests/executor_test.cpp checks that they see the same rows.

// Contract acceptance is measured (docs/mxc-contract.md section 1, ../shared/docs/mxc-1.0.md section
// 3): 0.9.0 and 1.0.1 compare `version` against an exact list (development contracts included;
// cordon refuses those itself). 0.7.0 checks a semver range (>=0.4, <=0.8); it would take an
// 0.8.0-alpha config but ignore its directional fields, so only 0.6/0.7 are listed for it.
inline constexpr std::array<SdkRelease, 3> sdk_releases{{
    {"0.7.0", "a0fdfd5c1bc44d5812d12632885f0660fb93f6130216e636a63047299cd1126f", 16148572, "0.6.0-alpha 0.7.0-alpha"},
    {"0.9.0", "cd71e820e998659a7d6b5d15155980689226edd4c4600b0bcc641403e091a421", 37360893, "0.6.0-alpha 0.7.0-alpha 0.8.0-alpha 0.9.0-alpha 0.10.0-alpha"},
    {"1.0.1", "416d9607c9d4652395d95c3d9c5f5605f1f2f845da1a63228bee41b7392cef49", 38256855, "0.9.0-alpha 1.0.0 1.1.0-alpha"},
}};

// The x64 packages ship no mxc-exec-mac (macOS executors exist for arm64 only).
inline constexpr std::array<ExecutorPin, 15> executor_pins{{
    {"0.7.0", "win32", Arch::x64, "wxc-exec.exe", "db0a3422be9e1b396cc1b2547c70ff16b27412438a31c10a45abf370cac86ae2", 6220096},
    {"0.7.0", "win32", Arch::arm64, "wxc-exec.exe", "e430d0e4f44f616e91db684f8d825a6dc93e06a1262b8d00bcaac7522a317aab", 2364216},
    {"0.7.0", "linux", Arch::x64, "lxc-exec", "1efe3f817f5ae9ba9f9f2fd59142e79b2dde7a4dd024576b0ddb635fc87edeb5", 7397384},
    {"0.7.0", "linux", Arch::arm64, "lxc-exec", "fdc00ccecf362ae3ddd8ccad93fd7c8b5b1f03c68897ab05ef1c9f1d327ea3fe", 2203944},
    {"0.7.0", "darwin", Arch::arm64, "mxc-exec-mac", "77c07a86f483ed91dd5be290cd77878ac0c56fe113cdb8c764e7e5201c744ad2", 1836736},
    {"0.9.0", "win32", Arch::x64, "wxc-exec.exe", "819ecd9b08a8dcb2376d489c0352087468bf56800ab059f57d38901d7743049e", 12414776},
    {"0.9.0", "win32", Arch::arm64, "wxc-exec.exe", "fd841de2824d6ff39f52c80dad25f0491a9124d55ba70bf0ad1856c0516d25c5", 6241080},
    {"0.9.0", "linux", Arch::x64, "lxc-exec", "01f1ed9f78342405aeb6714e4e05d6d42fdb62465145a94ecdbf753fb60d4c90", 12663568},
    {"0.9.0", "linux", Arch::arm64, "lxc-exec", "a75385fff645483d5ea61508cf78cbb94a2d0c0db6a44f247cd8f7aded5d4cbf", 5484152},
    {"0.9.0", "darwin", Arch::arm64, "mxc-exec-mac", "67b86dbcf81032354871ecb482f948de6ae5f332d6d9b2ae14a116afe95ab2f6", 4136096},
    {"1.0.1", "win32", Arch::x64, "wxc-exec.exe", "090f5d1f7bb93104ab08dcd4e8034ef954aeefcdaf6658dde5f7dff4cfc12f3a", 12152632},
    {"1.0.1", "win32", Arch::arm64, "wxc-exec.exe", "91aa4171e8809f33f19622c381116188eab7d8c8cffad231230a31b58146ee77", 5945656},
    {"1.0.1", "linux", Arch::x64, "lxc-exec", "5bd6bdf45bc6c0ecc9bccf372762b571de1f468142c4b2ff80fdb4c540922f26", 12426568},
    {"1.0.1", "linux", Arch::arm64, "lxc-exec", "e8391d55c566ce95c6c838d349941fa0797f037fa617aa0fa4ec39443c6ccddf", 5187184},
    {"1.0.1", "darwin", Arch::arm64, "mxc-exec-mac", "c54390e48a25187fdae10758c6a286bede49416cb610c88c6705fd8445e97f60", 3947232},
}};

namespace detail {

// Index of the release row, or sdk_releases.size(). Compile-time checks use indices, not pointers:
// GCC cannot constant-fold a pointer-to-static compared with nullptr under -fsanitize=undefined.
constexpr std::size_t sdk_release_index(std::string_view version) noexcept {
    std::size_t i = 0;
    while (i < sdk_releases.size() && sdk_releases[i].version != version) ++i;
    return i;
}

// Compares the versions, not find_contract's pointer with nullptr (same GCC limitation as above).
constexpr bool is_known_contract(std::string_view version) noexcept {
    for (const Contract* c : all_contracts)
        if (c->version == version) return true;
    return false;
}

}  // namespace detail

/// The release row for an SDK version, or nullptr.
constexpr const SdkRelease* find_sdk_release(std::string_view version) noexcept {
    const std::size_t i = detail::sdk_release_index(version);
    return i < sdk_releases.size() ? &sdk_releases[i] : nullptr;
}

/// The pin for (SDK version, OS, arch), or nullptr when cordon pins no such executor (fail closed).
constexpr const ExecutorPin* find_executor_pin(std::string_view sdk_version, std::string_view os, Arch arch) noexcept {
    for (const auto& p : executor_pins)
        if (p.sdk_version == sdk_version && p.os == os && p.arch == arch) return &p;
    return nullptr;
}

namespace detail {

/// Calls `f(word)` for each space-separated word of `list`; stops and returns true when f does.
template <class F>
constexpr bool any_word(std::string_view list, F f) {
    while (!list.empty()) {
        auto cut = list.find(' ');
        if (f(list.substr(0, cut))) return true;
        list = cut == std::string_view::npos ? std::string_view{} : list.substr(cut + 1);
    }
    return false;
}

}  // namespace detail

/// Whether executors of this SDK version accept configs of this contract version (false when unknown).
constexpr bool sdk_accepts_contract(std::string_view sdk_version, std::string_view contract_version) noexcept {
    const std::size_t i = detail::sdk_release_index(sdk_version);
    if (i == sdk_releases.size() || contract_version.empty()) return false;
    return detail::any_word(sdk_releases[i].contracts, [&](std::string_view c) { return c == contract_version; });
}

namespace detail {

constexpr bool is_lower_hex_digest(std::string_view s) noexcept {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Compile-time checks of the tables, so a typo cannot ship: well-formed digests, known OS and
// file name, one row per key, every pinned SDK installable, every contract one cordon speaks.
constexpr bool pin_tables_are_consistent() noexcept {
    for (std::size_t i = 0; i < executor_pins.size(); ++i) {
        const auto& p = executor_pins[i];
        if (!is_lower_hex_digest(p.sha256) || p.size == 0) return false;
        auto name = executor_file_name(p.os);
        if (!name || *name != p.file) return false;
        const std::size_t r = sdk_release_index(p.sdk_version);
        if (r == sdk_releases.size() || !is_lower_hex_digest(sdk_releases[r].tarball_sha256)) return false;
        for (std::size_t j = i + 1; j < executor_pins.size(); ++j)
            if (executor_pins[j].sdk_version == p.sdk_version && executor_pins[j].os == p.os &&
                executor_pins[j].arch == p.arch)
                return false;
    }
    for (const auto& r : sdk_releases) {
        if (!r.tarball_sha256.empty() && (!is_lower_hex_digest(r.tarball_sha256) || r.tarball_size == 0)) return false;
        if (any_word(r.contracts, [](std::string_view c) { return c.empty() || !is_known_contract(c); }))
            return false;
    }
    return true;
}
static_assert(pin_tables_are_consistent(), "cordon: the pin tables in pins.hpp are malformed");

}  // namespace detail

}  // namespace cordon
