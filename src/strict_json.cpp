// SPDX-License-Identifier: MIT
// libcordon (compiled mode): the one translation unit that defines what cordon/impl/strict_json.hpp implements.
#include "cordon/impl/strict_json.hpp"
