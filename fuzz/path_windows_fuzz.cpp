// SPDX-License-Identifier: MIT
// Fuzz target: any bytes through the Windows (and POSIX) path parser; whatever parses is a fixed point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cordon/path.hpp"

namespace {
void check(std::string_view text, cordon::PathStyle style) {
    auto p = cordon::Path::parse(text, style);
    if (!p) {
        if (p.error().where != text) std::abort();  // errors name the input
        return;
    }
    // Normalisation is idempotent, and the result is absolute, within itself and its parent.
    auto again = cordon::Path::parse(p->str(), style);
    if (!again || again->str() != p->str() || !(*again == *p)) std::abort();
    if (!cordon::within(*p, *p) || !cordon::within(*p, p->parent())) std::abort();
    if (p->parent() != *p && cordon::within(p->parent(), *p)) std::abort();
    if (p->str().rfind(p->root(), 0) != 0) std::abort();
    for (auto c : p->components())
        if (c.empty() || c == "." || c == "..") std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check(text, cordon::PathStyle::windows);
    check(text, cordon::PathStyle::posix);
    return 0;
}
