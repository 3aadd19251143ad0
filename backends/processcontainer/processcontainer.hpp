// SPDX-License-Identifier: MIT
// cordon processcontainer backend: what an embedder links (the static library) and what the host needs on Windows.
#pragma once

#include "cordon/backend_abi.h"

#if defined(_WIN32)
#include <string>

#include "cordon/detail/win32_handle.hpp"
#include "cordon/error.hpp"
#endif

/// The backend's C table, for statically linked embedders:
/// `registry.add(cordon_backend_processcontainer_v1())`. The module build exports the same table
/// as `cordon_backend_entry_v1` (its only export).
extern "C" const cordon_backend_v1* cordon_backend_processcontainer_v1(void);

#if defined(_WIN32)
namespace cordon::processcontainer {

/// Opens the executor for verify-then-launch: read access, sharing only reads, so while the
/// handle lives nobody can write, truncate, delete or rename the file (CreateProcessW can still
/// open it: it asks for read/execute and shares reads). The host hashes through this handle (no
/// second open by path), keeps it open across backend.run(), and closes it afterwards; run()
/// itself opens the path the same way until CreateProcessW returns.
/// Errors: untrusted_executor when the file is open for writing elsewhere (sharing violation),
/// unavailable when it cannot be opened at all.
Result<detail::win32::unique_file> hold_executor(const std::wstring& path);

}  // namespace cordon::processcontainer
#endif
