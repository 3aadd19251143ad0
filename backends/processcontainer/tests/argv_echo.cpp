// SPDX-License-Identifier: MIT
// Prints, as one JSON object, the argv this process received as parsed by its C runtime (wmain) and
// by CommandLineToArgvW, plus the raw command line: the other side of the quoting round-trip tests.
#include <windows.h>
#include <shellapi.h>

#include <string>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/utf16.hpp"

namespace {

std::string narrow(const wchar_t* w) {
    std::wstring s(w);
    auto u = cordon::detail::utf16_to_utf8(std::u16string(s.begin(), s.end()));
    return u ? *u : std::string("<invalid UTF-16>");
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
    boost::json::array crt, shell32;
    for (int i = 0; i < argc; ++i) crt.emplace_back(narrow(argv[i]));
    int n = 0;
    wchar_t** parsed = ::CommandLineToArgvW(::GetCommandLineW(), &n);
    for (int i = 0; i < n; ++i) shell32.emplace_back(narrow(parsed[i]));
    ::LocalFree(parsed);
    boost::json::object out{{"crt", crt}, {"shell32", shell32}, {"raw", narrow(::GetCommandLineW())}};
    std::string text = boost::json::serialize(out) + "\n";
    DWORD written = 0;
    ::WriteFile(::GetStdHandle(STD_OUTPUT_HANDLE), text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
    return 0;
}
