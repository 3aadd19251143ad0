/* SPDX-License-Identifier: MIT */
/* cordon: the versioned C ABI between the header-only core and a compiled backend plugin.
 * Only C types and UTF-8 JSON cross it; no C++ type and no exception ever does. */
#ifndef CORDON_BACKEND_ABI_H
#define CORDON_BACKEND_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The major version is part of the entry symbol, so a future host can probe _v2 then _v1. */
#define CORDON_BACKEND_ABI_VERSION 1u
#define CORDON_BACKEND_ENTRY_SYMBOL "cordon_backend_entry_v1"

#if defined(_WIN32)
#define CORDON_BACKEND_EXPORT __declspec(dllexport)
#else
#define CORDON_BACKEND_EXPORT __attribute__((visibility("default")))
#endif

/* Status codes are cordon::ErrorCode values (0 = ok). A host treats any code it does not know as
 * a failure. */
typedef int32_t cordon_status;

typedef struct cordon_backend_v1 {
    uint32_t struct_size; /* sizeof(cordon_backend_v1) as built by the backend; minor versions append */
    uint32_t abi_version; /* CORDON_BACKEND_ABI_VERSION */
    const char* name;     /* "bubblewrap", "seatbelt", "processcontainer" */

    /* Capabilities of this backend with the executor of the given SDK version, as a JSON object
     * (see docs/backend-abi.md). The backend allocates *out; the host releases it with free_buffer. */
    cordon_status (*capabilities)(const char* sdk_version, char** out, size_t* out_size);

    /* Runs one request: `request` is a JSON object holding the MXC config and the run options
     * (docs/backend-abi.md). On return *out holds the JSON result, also for failures, so the
     * host always gets a message. Must not throw; must be safe to call from several threads. */
    cordon_status (*run)(const char* request, size_t request_size, char** out, size_t* out_size);

    void (*free_buffer)(char* buffer);

    /* ABI 1.1; a host calls it only when struct_size covers it, and NULL means "nothing to adjust".
     * Adjusts a policy to what this backend's executor needs, before the host emits the one config
     * it runs: `config` is the policy as the MXC config the host would emit; on success *out holds
     * the adjusted policy as a config of the same contract (docs/backend-abi.md), on failure an
     * error object. The host checks and emits the result; `run` then treats its config as opaque. */
    cordon_status (*prepare)(const char* config, size_t config_size, char** out, size_t* out_size);
} cordon_backend_v1;

/* The size of an ABI 1.0 table (no prepare): the least struct_size a host accepts. */
#define CORDON_BACKEND_V1_0_SIZE offsetof(cordon_backend_v1, prepare)

/* The one exported symbol of a backend module. No side effects; may be called many times. */
typedef const cordon_backend_v1* (*cordon_backend_entry_v1_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CORDON_BACKEND_ABI_H */
