// SPDX-License-Identifier: MIT
// libcordon (compiled mode): the one translation unit that defines what cordon/impl/sha256.hpp implements.
#include "cordon/impl/sha256.hpp"
