// SPDX-License-Identifier: MIT
// libcordon (compiled mode): the JSON of the backend ABI: run request/result, capabilities, executor stderr.
#include "cordon/impl/capabilities_wire.hpp"
#include "cordon/impl/executor_stderr.hpp"
#include "cordon/impl/run_wire.hpp"
