// SPDX-License-Identifier: MIT
// cordon: the one way an enum gets its names: an EnumNames<E> table beside the enum, read by
// to_string, enum_from_string and enum_from_value.
#pragma once

#include <optional>
#include <string_view>
#include <type_traits>

namespace cordon {

template <class E>
struct EnumName {
    std::string_view name;
    E value;
};

/// Specialised beside each enum: `static constexpr std::array<EnumName<E>, N> table`. The first
/// entry for a value is its canonical spelling; later ones are aliases (legacy wire names).
template <class E>
struct EnumNames;

namespace detail {
template <class E, class = void>
struct has_enum_names : std::false_type {};
template <class E>
struct has_enum_names<E, std::void_t<decltype(EnumNames<E>::table)>> : std::true_type {};
template <class E>
using if_enum_names = std::enable_if_t<std::is_enum_v<E> && has_enum_names<E>::value, int>;
}  // namespace detail

/// The canonical name of an enum value ("?" for a value outside the table).
template <class E, detail::if_enum_names<E> = 0>
constexpr std::string_view to_string(E value) noexcept {
    for (const auto& entry : EnumNames<E>::table)
        if (entry.value == value) return entry.name;
    return "?";
}

/// Parses a name (exact, case-sensitive, as the executors do), aliases included.
template <class E, detail::if_enum_names<E> = 0>
constexpr std::optional<E> enum_from_string(std::string_view name) noexcept {
    for (const auto& entry : EnumNames<E>::table)
        if (entry.name == name) return entry.value;
    return std::nullopt;
}

/// The enum value whose underlying value is `raw`, when the table names it (values read off a wire).
template <class E, class I, detail::if_enum_names<E> = 0>
constexpr std::optional<E> enum_from_value(I raw) noexcept {
    for (const auto& entry : EnumNames<E>::table)
        if (static_cast<I>(entry.value) == raw) return entry.value;
    return std::nullopt;
}

}  // namespace cordon
