// SPDX-License-Identifier: MIT
// A real backend module for testing the host side of the plugin ABI: it echoes the request back
// (stdout = the config it received, stderr = the executor path), prepares a policy (a cwd of its
// own), and can be built with a wrong ABI version or name, or as an ABI 1.0 table, to test the host.
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

// prepare (ABI 1.1): a cwd of its own when the policy has none; a commandLine can ask it to
// refuse, throw or answer with something that is not a config.
cordon_status fake_prepare(const char* config, std::size_t size, char** out, std::size_t* out_size) noexcept {
    const std::string_view text(config, size);
    if (text.find("garbage-prepare") != std::string_view::npos)
        return cordon::backend_sdk::give(R"({"version":"0.6.0-alpha"})", out, out_size);
    return cordon::backend_sdk::prepare(config, size, out, out_size, [](cordon::Policy& p, const cordon::Contract&) {
        if (p.process.command_line == "refuse-prepare")
            return cordon::Status(cordon::make_error(cordon::ErrorCode::invalid_policy, "asked to refuse", "/process/commandLine"));
        if (p.process.command_line == "throw-prepare") throw std::runtime_error("asked to throw in prepare");
        if (!p.process.cwd) p.process.cwd = "/prepared";
        return cordon::Status{};
    });
}

// FAKE_BACKEND_V1_0: the table as an ABI 1.0 module builds it, without prepare.
#ifdef FAKE_BACKEND_V1_0
constexpr std::uint32_t table_size = CORDON_BACKEND_V1_0_SIZE;
#else
constexpr std::uint32_t table_size = sizeof(cordon_backend_v1);
#endif
const cordon_backend_v1 table{table_size, FAKE_BACKEND_ABI, FAKE_BACKEND_NAME, fake_capabilities,
                              fake_run, cordon::backend_sdk::free_buffer, fake_prepare};

}  // namespace

extern "C" CORDON_BACKEND_EXPORT const cordon_backend_v1* cordon_backend_entry_v1(void) { return &table; }
