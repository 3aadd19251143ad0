// SPDX-License-Identifier: MIT
// cordon: MxcReader, the typed JSON reading primitives every MXC codec shares: each check reports a
// violation with its JSON pointer and reading goes on (part of the implementation of mxc_json.hpp).
#pragma once

#include <cstdint>  // INT64_MAX
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>  // std::is_pointer_v
#include <vector>

#include <boost/json/value.hpp>

#include "cordon/contract.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/names.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

inline std::string_view json_kind_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null: return "null";
        case boost::json::kind::bool_: return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64: return "an integer";
        case boost::json::kind::double_: return "a non-integer number";
        case boost::json::kind::string: return "a string";
        case boost::json::kind::array: return "an array";
        case boost::json::kind::object: return "an object";
    }
    return "a value";
}

/// An integer JSON value as int64 (Boost.JSON stores unsigned values it was given as uint64).
inline std::optional<std::int64_t> integer_of(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

template <class Names>
std::string quoted_list(const Names& names, char quote = '`') {
    std::string out;
    for (std::string_view name : names) {
        if (!out.empty()) out += ", ";
        out += quote;
        out += name;
        out += quote;
    }
    return out;
}
inline std::string quoted_list(std::initializer_list<std::string_view> names, char quote = '`') {
    return quoted_list(std::vector<std::string_view>(names), quote);
}

inline bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\n\r\v\f") == std::string_view::npos;
}

using Keys = std::vector<std::string_view>;

/// Why a key of another contract is unknown here (appended to "unknown field" messages), or "".
using KeyHint = std::string (*)(std::string_view key, const Contract& contract);

class MxcReader {
public:
    MxcReader(const Contract& contract, Violations& out) : contract_(contract), out_(out) {}

    const Contract& contract() const noexcept { return contract_; }
    std::size_t violations() const noexcept { return out_.size(); }

    void add(std::string pointer, std::string message) { out_.push_back({std::move(pointer), std::move(message)}); }

    void type_error(const boost::json::value& v, const std::string& pointer, std::string_view expected) {
        std::string message = "expected " + std::string(expected) + ", got " + std::string(json_kind_name(v));
        if (v.is_null()) message += " (null is never accepted: omit the field instead)";
        add(pointer, std::move(message));
    }

    const boost::json::object* as_object(const boost::json::value& v, const std::string& pointer) {
        if (v.is_object()) return &v.get_object();
        type_error(v, pointer, "an object");
        return nullptr;
    }

    /// The object at `key`, type-checked, or nullptr when absent or not an object.
    const boost::json::object* object_field(const boost::json::object& obj, const std::string& pointer,
                                            std::string_view key) {
        auto* v = obj.if_contains(key);
        return v ? as_object(*v, pointer_child(pointer, key)) : nullptr;
    }

    void check_keys(const boost::json::object& obj, const std::string& pointer, const Keys& allowed,
                    KeyHint hint = nullptr) {
        for (const auto& member : obj) {
            std::string_view key(member.key().data(), member.key().size());
            bool known = false;
            for (auto a : allowed) known = known || a == key;
            if (known) continue;
            std::string message = "unknown field `" + std::string(key) + "`; expected one of " + quoted_list(allowed);
            if (hint) message += hint(key, contract_);
            add(pointer_child(pointer, key), std::move(message));
        }
    }

    // A string value; NUL is refused (executors and kernels cut C strings at it) unless `allow_nul`:
    // where the executor's own parser lets it through, a check must too (to_mxc_json refuses it).
    std::optional<std::string> string_value(const boost::json::value& v, const std::string& pointer,
                                            bool allow_nul = false) {
        if (!v.is_string()) {
            type_error(v, pointer, "a string");
            return std::nullopt;
        }
        std::string s(v.get_string().data(), v.get_string().size());
        if (!allow_nul && s.find('\0') != std::string::npos) {
            add(pointer, "must not contain a NUL character");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::string> string_field(const boost::json::object& obj, const std::string& pointer,
                                            std::string_view key) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        return string_value(*v, pointer_child(pointer, key));
    }

    std::optional<bool> bool_field(const boost::json::object& obj, const std::string& pointer, std::string_view key) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        if (v->is_bool()) return v->get_bool();
        type_error(*v, pointer_child(pointer, key), "a boolean");
        return std::nullopt;
    }

    /// An integer from `min` to `max` at `key`, or nullopt (absent, or a violation added).
    std::optional<std::uint64_t> integer_field(const boost::json::object& obj, const std::string& pointer,
                                               std::string_view key, std::uint64_t min, std::uint64_t max) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        std::string here = pointer_child(pointer, key);
        std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
        if (v->is_uint64() && v->get_uint64() >= min && v->get_uint64() <= max) return v->get_uint64();
        if (v->is_int64() && v->get_int64() >= 0 && static_cast<std::uint64_t>(v->get_int64()) >= min &&
            static_cast<std::uint64_t>(v->get_int64()) <= max)
            return static_cast<std::uint64_t>(v->get_int64());
        if (v->is_int64() || v->is_uint64())
            add(here, "expected " + expected + ", got " +
                          (v->is_int64() ? std::to_string(v->get_int64()) : std::to_string(v->get_uint64())));
        else type_error(*v, here, expected);
        return std::nullopt;
    }

    // `problem(item)` says what is wrong with an item that is a valid string, or nullptr. Item
    // pointers are spelled only for a violation: a list of valid paths allocates nothing for them.
    template <class Problem = const char* (*)(std::string_view)>
    std::vector<std::string> string_list(const boost::json::object& obj, const std::string& pointer,
                                         std::string_view key, Problem problem = nullptr, bool allow_nul = false) {
        std::vector<std::string> out;
        auto* v = obj.if_contains(key);
        if (!v) return out;
        std::string here = pointer_child(pointer, key);
        if (!v->is_array()) {
            type_error(*v, here, "an array of strings");
            return out;
        }
        const auto& items = v->get_array();
        out.reserve(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            const boost::json::value& item = items[i];
            if (!item.is_string() || (!allow_nul && item.get_string().find('\0') != boost::json::string::npos)) {
                string_value(item, pointer_child(here, i), allow_nul);  // reports the violation
                continue;
            }
            std::string_view s(item.get_string().data(), item.get_string().size());
            if constexpr (!std::is_pointer_v<Problem> && !std::is_null_pointer_v<Problem>) {
                if (const char* why = problem(s)) add(pointer_child(here, i), why);
            }
            out.emplace_back(s);
        }
        return out;
    }

    template <class E>
    std::optional<E> enum_field(const boost::json::object& obj, const std::string& pointer, std::string_view key,
                                const Keys& accepted) {
        auto* v = obj.if_contains(key);
        if (!v) return std::nullopt;
        std::string here = pointer_child(pointer, key);
        auto s = string_value(*v, here);
        if (!s) return std::nullopt;
        for (auto name : accepted)
            if (name == *s) return enum_from_string<E>(name);
        add(here, "unknown value \"" + *s + "\"; expected one of " + quoted_list(accepted, '"'));
        return std::nullopt;
    }

    /// enum_field accepting exactly the names of EnumNames<E> (the contract admits every value).
    template <class E>
    std::optional<E> enum_field(const boost::json::object& obj, const std::string& pointer, std::string_view key) {
        Keys names;
        for (const auto& entry : EnumNames<E>::table) names.push_back(entry.name);
        return enum_field<E>(obj, pointer, key, names);
    }

private:
    const Contract& contract_;
    Violations& out_;
};

}  // namespace cordon::detail
