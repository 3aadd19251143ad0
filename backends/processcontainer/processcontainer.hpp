// SPDX-License-Identifier: MIT
// cordon processcontainer backend: what an embedder links (the static library) and what the host needs on Windows.
#pragma once

#include "cordon/backend_abi.h"

#if defined(_WIN32)
#include <string>

#include "cordon/backend_sdk/win32_handle.hpp"
#include "cordon/error.hpp"
#endif

/// The backend's C table, for statically linked embedders:
/// `registry.add(cordon_backend_processcontainer_v1())`. The module build exports the same table
/// as `cordon_backend_entry_v1` (its only export).
extern "C" const cordon_backend_v1* cordon_backend_processcontainer_v1(void);

#if defined(_WIN32)
namespace cordon::processcontainer {

/// Opens the executor the way run() does before CreateProcessW: read access, sharing only reads,
/// so while the handle lives nobody can write, truncate, delete or rename the file, yet
/// CreateProcessW can still open it (it asks for read/execute and shares reads). The host side of
/// verify-then-launch is cordon::VerifiedExecutor (verified_executor.hpp): it holds its own such
/// handle from hashing until it is destroyed, so the host keeps it alive across backend.run() and
/// passes `launch_path()` (the handle's final path) as `executor.path`; this second hold only
/// covers embedders that call the backend without one.
/// Errors: untrusted_executor when the file is open for writing elsewhere (sharing violation),
/// unavailable when it cannot be opened at all.
Result<backend_sdk::win32::unique_file> hold_executor(const std::wstring& path);

}  // namespace cordon::processcontainer
#endif
