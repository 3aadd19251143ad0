// SPDX-License-Identifier: MIT
// libcordon (compiled mode): egress rule sets (build, index, write back) and the clamp of egress rules.
#include "cordon/impl/egress_build.hpp"
#include "cordon/impl/egress_clamp.hpp"
#include "cordon/impl/egress_form.hpp"
#include "cordon/impl/egress_index.hpp"
