// SPDX-License-Identifier: MIT
// libcordon (compiled mode): files an operator names (read without blocking, anchors checked), files cordon
// writes, the root-only directories helper programs come from, the helpers themselves, and the host's
// own addresses.
#include "cordon/impl/input_file.hpp"
#include "cordon/impl/output_file.hpp"
#include "cordon/impl/helper_tools.hpp"
#include "cordon/impl/host_addresses.hpp"
#include "cordon/impl/trusted_dirs.hpp"
