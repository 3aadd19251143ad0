// SPDX-License-Identifier: MIT
// cordon: implementation of detail/executor_stderr.hpp (the trailing error object, with Boost.JSON).
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/executor_stderr.hpp"

namespace cordon::detail {

CORDON_FUNC std::optional<std::string> trailing_error_object(std::string_view err) {
    auto at = err.rfind("{\"error\":");
    if (at == std::string_view::npos) return std::nullopt;
    auto tail = trim(err.substr(at));
    try {
        auto v = boost::json::parse(boost::json::string_view(tail.data(), tail.size()));
        const auto& error = v.as_object().at("error").as_object();
        if (const auto* m = error.if_contains("message"); m && m->is_string()) return std::string(m->get_string());
        if (const auto* c = error.if_contains("code"); c && c->is_string()) return std::string(c->get_string());
        return std::string("backend error");
    } catch (const std::exception&) {
        return std::nullopt;  // not JSON after all, or cut off by the output limit
    }
}

}  // namespace cordon::detail
