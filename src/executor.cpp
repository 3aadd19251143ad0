// SPDX-License-Identifier: MIT
// libcordon (compiled mode): finding, verifying and loading what runs: executor, backend, runner.
#include "cordon/impl/backend_host.hpp"
#include "cordon/impl/executor.hpp"
#include "cordon/impl/runner.hpp"
#include "cordon/impl/verification_cache.hpp"
#include "cordon/impl/verified_executor.hpp"
#include "cordon/impl/bind_check.hpp"
#include "cordon/impl/run_registry.hpp"
#include "cordon/impl/run_as_access.hpp"
