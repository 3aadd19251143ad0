// SPDX-License-Identifier: MIT
// cordon: the MXC wire spelling of every enum in the policy model, in one table per enum.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"
#include "cordon/policy.hpp"

namespace cordon {

template <>
struct EnumNames<Containment> {
    static constexpr std::array<EnumName<Containment>, 9> table{{
        {"process", Containment::process},
        {"processcontainer", Containment::processcontainer},
        {"lxc", Containment::lxc},
        {"bubblewrap", Containment::bubblewrap},
        {"seatbelt", Containment::seatbelt},
        {"isolation_session", Containment::isolation_session},
        {"wslc", Containment::wslc},
        {"appcontainer", Containment::processcontainer},
        {"macos_sandbox", Containment::seatbelt},
    }};
};
template <>
struct EnumNames<NetworkDefault> {
    static constexpr std::array<EnumName<NetworkDefault>, 2> table{{
        {"allow", NetworkDefault::allow}, {"block", NetworkDefault::block}}};
};
template <>
struct EnumNames<EnforcementMode> {
    static constexpr std::array<EnumName<EnforcementMode>, 3> table{{
        {"capabilities", EnforcementMode::capabilities},
        {"firewall", EnforcementMode::firewall},
        {"both", EnforcementMode::both}}};
};
template <>
struct EnumNames<ClipboardAccess> {
    static constexpr std::array<EnumName<ClipboardAccess>, 4> table{{
        {"none", ClipboardAccess::none}, {"read", ClipboardAccess::read},
        {"write", ClipboardAccess::write}, {"all", ClipboardAccess::all}}};
};
template <>
struct EnumNames<UiIsolation> {
    static constexpr std::array<EnumName<UiIsolation>, 4> table{{
        {"container", UiIsolation::container}, {"desktop", UiIsolation::desktop},
        {"handles", UiIsolation::handles}, {"atoms", UiIsolation::atoms}}};
};
template <>
struct EnumNames<CaptureMode> {
    static constexpr std::array<EnumName<CaptureMode>, 2> table{{
        {"block", CaptureMode::block}, {"allow", CaptureMode::allow}}};
};
template <>
struct EnumNames<LaunchMethod> {
    static constexpr std::array<EnumName<LaunchMethod>, 2> table{{
        {"exec", LaunchMethod::exec}, {"open", LaunchMethod::open}}};
};

}  // namespace cordon
