// SPDX-License-Identifier: MIT
// cordon: umbrella header: the policy model and MXC JSON, paths, ceiling and clamp, executor trust,
// backend loading and the runner. (Backend authors add cordon/backend_sdk.hpp; downstream policy
// tests add cordon/testing/doctest.hpp.)
#pragma once

#include "cordon/backend.hpp"
#include "cordon/backend_host.hpp"
#include "cordon/canonical.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/clamp_report.hpp"
#include "cordon/config.hpp"
#include "cordon/contract.hpp"
#include "cordon/egress_clamp.hpp"
#include "cordon/enforceable.hpp"
#include "cordon/egress_flag.hpp"
#include "cordon/error.hpp"
#include "cordon/executor.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/names.hpp"
#include "cordon/path.hpp"
#include "cordon/pins.hpp"
#include "cordon/policy.hpp"
#include "cordon/posix_command_line.hpp"
#include "cordon/run_result.hpp"
#include "cordon/runner.hpp"
#include "cordon/session.hpp"
#include "cordon/timeout.hpp"
#include "cordon/verified_executor.hpp"
#include "cordon/violation.hpp"
#include "cordon/windows_command_line.hpp"
