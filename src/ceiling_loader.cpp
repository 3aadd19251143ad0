// SPDX-License-Identifier: MIT
// libcordon (compiled mode): the one translation unit that defines what cordon/impl/ceiling_loader.hpp implements.
#include "cordon/impl/ceiling_loader.hpp"
