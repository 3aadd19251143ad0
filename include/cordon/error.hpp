// SPDX-License-Identifier: MIT
// cordon: the one error idiom of the library: ErrorCode, Error and Result<T>.
#pragma once

#include <array>
#include <stdexcept>  // std::runtime_error
#include <string>
#include <string_view>
#include <type_traits>  // std::is_same_v
#include <utility>      // std::move
#include <variant>

#include "cordon/config.hpp"
#include "cordon/enum_names.hpp"

namespace cordon {

/// Stable error codes. Values are part of the plugin ABI and the CLI contract: never renumber.
enum class ErrorCode : int {
    ok = 0,                   ///< not an error (used only across the C ABI)
    invalid_policy = 1,       ///< malformed JSON, schema/contract violation, bad path, bad ceiling
    unavailable = 2,          ///< no executor / backend / platform surface to run with
    untrusted_executor = 3,   ///< executor digest does not match the pinned SHA-256
    backend_unsupported = 4,  ///< the policy needs a primitive the backend cannot enforce
    execution_failed = 5,     ///< the executor or the contained process could not be run
    timeout = 6,              ///< the run exceeded its timeout and was killed
    io_error = 7,             ///< a file the caller named could not be read or written
    internal = 8,             ///< a bug in cordon; please report
};

/// Stable kebab-case identifiers, as printed by the CLI and documented in docs/errors.md.
template <>
struct EnumNames<ErrorCode> {
    static constexpr std::array<EnumName<ErrorCode>, 9> table{{
        {"ok", ErrorCode::ok},
        {"invalid-policy", ErrorCode::invalid_policy},
        {"unavailable", ErrorCode::unavailable},
        {"untrusted-executor", ErrorCode::untrusted_executor},
        {"backend-unsupported", ErrorCode::backend_unsupported},
        {"execution-failed", ErrorCode::execution_failed},
        {"timeout", ErrorCode::timeout},
        {"io-error", ErrorCode::io_error},
        {"internal", ErrorCode::internal},
    }};
};

/// A failure: stable code, human message, and where it happened (an RFC 6901 JSON pointer into
/// the input, a file name, or empty).
struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
    std::string where;

    /// "where: message" (or just the message when there is no location).
    std::string to_string() const {
        return where.empty() ? message : where + ": " + message;
    }
};

inline Error make_error(ErrorCode code, std::string message, std::string where = {}) {
    return Error{code, std::move(message), std::move(where)};
}

/// Thrown by Result<T>::value() when the result holds an error, so exception-style callers
/// read naturally; cordon itself never lets it escape a public function.
class BadResultAccess : public std::runtime_error {
public:
    explicit BadResultAccess(Error e)
        : std::runtime_error(std::string(cordon::to_string(e.code)) + ": " + e.to_string()),
          error_(std::move(e)) {}
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

/// A value or an Error. [[nodiscard]] so a failure cannot be dropped by accident.
template <class T>
class [[nodiscard]] Result {
    // "has a value" must never read like "is allowed" (see docs/errors.md).
    static_assert(!std::is_same_v<T, bool>, "Result<bool> is ambiguous; return a named type");
    static_assert(!std::is_same_v<T, Error>, "Result<Error> is ambiguous");

public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}     // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { check(); return std::get<0>(v_); }
    const T& value() const& { check(); return std::get<0>(v_); }
    T&& value() && { check(); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; calling it on a success is a contract violation in the caller.
    const Error& error() const {
        if (has_value()) throw std::logic_error("cordon::Result::error() called on a success");
        return std::get<1>(v_);
    }

private:
    void check() const {
        if (!has_value()) throw BadResultAccess(std::get<1>(v_));
    }
    std::variant<T, Error> v_;
};

/// Success or an Error, for operations with no value.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (failed_) throw BadResultAccess(error_);
    }
    const Error& error() const {
        if (!failed_) throw std::logic_error("cordon::Result::error() called on a success");
        return error_;
    }

private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace cordon
