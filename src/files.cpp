// SPDX-License-Identifier: MIT
// libcordon (compiled mode): files an operator names (read without blocking, anchors checked) and files cordon writes.
#include "cordon/impl/input_file.hpp"
#include "cordon/impl/output_file.hpp"
