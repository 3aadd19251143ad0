// SPDX-License-Identifier: MIT
// Boost.JSON compiled once for a Windows host (Debian ships no mingw libboost_json; see meson.build).
#include <boost/json/src.hpp>
