// SPDX-License-Identifier: MIT
// cordon processcontainer backend: UTF-8 <-> UTF-16 at the Win32 boundary and Win32 error text. Windows only.
#pragma once

#include <windows.h>

#include <optional>
#include <string>
#include <string_view>

#include "cordon/detail/utf16.hpp"
#include "cordon/error.hpp"

namespace cordon::processcontainer::win {

/// UTF-8 to the wchar_t strings Win32 takes, or nullopt for invalid UTF-8 (never a replacement character).
inline std::optional<std::wstring> widen(std::string_view utf8) {
    auto u16 = detail::utf8_to_utf16(utf8);
    if (!u16) return std::nullopt;
    return std::wstring(u16->begin(), u16->end());
}

/// Win32's UTF-16 back to UTF-8; an unpaired surrogate (possible in NTFS names) becomes U+FFFD here,
/// because this direction only produces messages and reports.
inline std::string narrow(std::wstring_view wide) {
    std::u16string u16(wide.begin(), wide.end());
    if (auto s = detail::utf16_to_utf8(u16)) return *s;
    std::string out;
    for (char16_t c : u16) {
        auto one = detail::utf16_to_utf8(std::u16string_view(&c, 1));
        out += one ? *one : "\xEF\xBF\xBD";
    }
    return out;
}

/// "message (Win32 error N)" for an error code read right after the failing call.
inline std::string error_text(DWORD code) {
    wchar_t* buffer = nullptr;
    DWORD n = ::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                               nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
    std::string text;
    if (n && buffer) {
        text = narrow(std::wstring_view(buffer, n));
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.'))
            text.pop_back();
    }
    if (buffer) ::LocalFree(buffer);
    return (text.empty() ? "error" : text) + " (Win32 error " + std::to_string(code) + ")";
}

/// An Error for a Win32 call that just failed; `code` must be GetLastError() read immediately.
inline Error win32_error(ErrorCode kind, const std::string& what, DWORD code, std::string where = {}) {
    return make_error(kind, what + ": " + error_text(code), std::move(where));
}

}  // namespace cordon::processcontainer::win
