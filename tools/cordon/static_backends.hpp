// SPDX-License-Identifier: MIT
// cordon CLI: the host's backend is linked into the tool itself, so `cordon run` needs no plugin
// directory (the plugin path is what embedders use; tests cover both).
#pragma once

#include "cordon/backend_host.hpp"

extern "C" const cordon_backend_v1* CORDON_CLI_BACKEND_ENTRY(void);

namespace cordon::cli {

inline const BackendRegistry& static_backends() {
    static const BackendRegistry registry = [] {
        BackendRegistry r;
        r.add(CORDON_CLI_BACKEND_ENTRY()).value();  // a bad built-in table is a build bug: fail loudly
        return r;
    }();
    return registry;
}

}  // namespace cordon::cli
