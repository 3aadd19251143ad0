// SPDX-License-Identifier: MIT
// cordon: the runs of this host (as this user sees them) that are going on now, so that two runs where
// one could write a parent directory of the other's grants or denials never overlap in time.
#pragma once

#include <string>
#include <vector>

#include "cordon/config.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"

namespace cordon::detail {

/// A run's entry in the registry; the run counts as going on while this object lives (the entry is
/// locked, so the entry of a process that died is recognised as stale and removed by the next run).
class RunRegistration {
public:
    RunRegistration() = default;
    RunRegistration(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    RunRegistration(RunRegistration&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
    RunRegistration& operator=(RunRegistration&& o) noexcept;
    RunRegistration(const RunRegistration&) = delete;
    RunRegistration& operator=(const RunRegistration&) = delete;
    ~RunRegistration();

private:
    int fd_ = -1;
    std::string path_;
};

/// Where this process keeps the registry: /run/cordon/runs as root, else
/// $XDG_RUNTIME_DIR/cordon-runs or /tmp/cordon-runs-UID (made 0700, refused when someone else owns it).
CORDON_FUNC std::string run_registry_dir();

/// Registers a run of `p` (its read-write grants, and every grant and denial) in `dir`, after
/// checking, under the registry's lock, that no run going on now could write a parent directory of
/// one of p's paths, nor p of one of theirs: such a run could swap a granted directory for a symlink
/// between clamp and mount, or move denied content to a readable name. POSIX only (Windows: nothing
/// is registered). Errors: unavailable naming the other run (pid) and the two paths; io-error.
CORDON_FUNC Result<RunRegistration> register_run(const Policy& p, const std::string& dir);

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/run_registry.hpp"
#endif
