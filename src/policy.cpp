// SPDX-License-Identifier: MIT
// libcordon (compiled mode): member-wise equality of a policy and its parts.
#include "cordon/impl/policy.hpp"
