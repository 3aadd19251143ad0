// SPDX-License-Identifier: MIT
// A real backend module for testing the host side of the plugin ABI: it echoes the request back
// (stdout = the config it received, stderr = the executor path) and can be built with a wrong ABI
// version or name to test the host's refusals.
#include "cordon/backend_sdk.hpp"

#ifndef FAKE_BACKEND_NAME
#define FAKE_BACKEND_NAME "bubblewrap"
#endif
#ifndef FAKE_BACKEND_ABI
#define FAKE_BACKEND_ABI CORDON_BACKEND_ABI_VERSION
#endif

namespace {

cordon_status fake_capabilities(const char* sdk, char** out, std::size_t* size) noexcept {
    return cordon::backend_sdk::capabilities(cordon::Backend::bubblewrap, sdk, out, size);
}

cordon_status fake_run(const char* request, std::size_t request_size, char** out, std::size_t* size) noexcept {
    return cordon::backend_sdk::run(request, request_size, out, size,
                                    [](const cordon::detail::RunRequest& r, cordon::RunResult& result) -> cordon::Status {
                                        if (r.config_json.find("\"throw\"") != std::string::npos)
                                            throw std::runtime_error("asked to throw");
                                        result.exit_code = 3;
                                        result.out = r.config_json;
                                        result.err = r.executor_path;
                                        result.invocation = {r.executor_path, "--config", "<file>"};
                                        return {};
                                    });
}

const cordon_backend_v1 table{sizeof(cordon_backend_v1), FAKE_BACKEND_ABI, FAKE_BACKEND_NAME, fake_capabilities,
                              fake_run, cordon::backend_sdk::free_buffer};

}  // namespace

extern "C" CORDON_BACKEND_EXPORT const cordon_backend_v1* cordon_backend_entry_v1(void) { return &table; }
