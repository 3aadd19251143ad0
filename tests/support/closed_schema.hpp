// SPDX-License-Identifier: MIT
// Test helper: checks that a JSON Schema closes every object it describes.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include <boost/json/value.hpp>

namespace cordon::test {

// Every object schema must close itself: an open object would let a typo weaken a policy silently.
inline void require_closed(const boost::json::value& node, const std::string& where) {
    if (!node.is_object()) return;
    const auto& obj = node.get_object();
    if (auto* type = obj.if_contains("type"); type && *type == "object")
        CHECK_MESSAGE(obj.contains("additionalProperties"), where);
    if (auto* ap = obj.if_contains("additionalProperties"); ap && ap->is_bool()) CHECK_MESSAGE(!ap->get_bool(), where);
    for (const auto& member : obj) require_closed(member.value(), where + "/" + std::string(member.key()));
}

}  // namespace cordon::test
