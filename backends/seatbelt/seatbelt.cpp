// SPDX-License-Identifier: MIT
// The seatbelt backend: drives MXC's `mxc-exec-mac` (macOS Seatbelt). Its containment is still
// experimental upstream, so the executor gets `--experimental`. Plain POSIX code: built and tested
// on Linux against a fake executor (tests/fake_executor); it can only contain anything on macOS.
// Built twice from this file: a plugin module (CORDON_BACKEND_MODULE) and a static library.
#include "cordon/backend_sdk.hpp"
#include "posix_backend.hpp"

namespace {

cordon_status capabilities(const char* sdk, char** out, std::size_t* size) noexcept {
    return cordon::backend_sdk::capabilities(cordon::Backend::seatbelt, sdk, out, size);
}

cordon_status run(const char* request, std::size_t request_size, char** out, std::size_t* size) noexcept {
    return cordon::backend_sdk::run(
        request, request_size, out, size, [](const cordon::detail::RunRequest& r, cordon::RunResult& result) {
            cordon::posix::ExecutorLaunch launch;
            launch.flags = {"--experimental"};
            auto env = cordon::posix::executor_environment(cordon::Backend::seatbelt, r.sdk_version);
            if (!env) return cordon::Status(env.error());
            launch.env = std::move(*env);
            launch.cwd = "/";
            return cordon::posix::run_posix_backend(r, launch, result);
        });
}

const cordon_backend_v1 table{sizeof(cordon_backend_v1), CORDON_BACKEND_ABI_VERSION, "seatbelt", capabilities, run,
                              cordon::backend_sdk::free_buffer, nullptr /* prepare: the config runs as emitted */};

}  // namespace

/// For embedders that link this backend statically: `registry.add(cordon_backend_seatbelt_v1())`.
extern "C" const cordon_backend_v1* cordon_backend_seatbelt_v1(void) { return &table; }

#ifdef CORDON_BACKEND_MODULE
extern "C" CORDON_BACKEND_EXPORT const cordon_backend_v1* cordon_backend_entry_v1(void) { return &table; }
#endif
