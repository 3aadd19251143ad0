// SPDX-License-Identifier: MIT
// libcordon (compiled mode): canonicalisation and the clamp.
#include "cordon/impl/canonical.hpp"
#include "cordon/impl/clamp.hpp"
#include "cordon/impl/socket_scan.hpp"
