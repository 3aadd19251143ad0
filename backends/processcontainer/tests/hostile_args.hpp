// SPDX-License-Identifier: MIT
// Arguments that break naive Windows quoting: quotes, backslashes before quotes, cmd metacharacters,
// empty strings, whitespace and non-ASCII text.
#pragma once

#include <string>
#include <vector>

namespace cordon::test {

inline const std::vector<std::string> hostile_args{
    "",
    " ",
    "plain",
    "two words",
    "tab\there",
    "\"",
    "\"\"",
    "\"quoted\"",
    "quote\"inside",
    "\\",
    "\\\\",
    "trail\\",
    "trail space\\",
    "a\\\"b",
    "a\\\\\"b",
    "a\\\\\\\"b",
    "\\\"leading",
    "C:\\Program Files\\dir\\",
    "\\\\server\\share\\x",
    "{\"json\":\"with \\\"escapes\\\"\"}",
    "%PATH% ^& | < > ( ) !x! ^",
    "& echo INJECTED",
    "| echo INJECTED",
    "\"& echo INJECTED\"",
    "a&&b||c",
    "--",
    "\"a b\"",
    "base64+/==",
    "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",  // café 日本語
    "emoji \xF0\x9F\x98\x80",                          // astral plane: a surrogate pair in UTF-16
    "new\nline",
};

}  // namespace cordon::test
