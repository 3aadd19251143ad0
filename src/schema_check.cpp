// SPDX-License-Identifier: MIT
// libcordon (compiled mode): the one translation unit that defines what cordon/impl/schema_check.hpp implements.
#include "cordon/impl/schema_check.hpp"
