// SPDX-License-Identifier: MIT
// cordon processcontainer backend module: its one export, cordon_backend_entry_v1.
#include "processcontainer.hpp"

extern "C" CORDON_BACKEND_EXPORT const cordon_backend_v1* cordon_backend_entry_v1(void) {
    return cordon_backend_processcontainer_v1();
}
