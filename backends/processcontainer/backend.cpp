// SPDX-License-Identifier: MIT
// cordon processcontainer backend: the C table (capabilities, run, free_buffer) driving wxc-exec.exe. Windows only.
#include "processcontainer.hpp"

#include <windows.h>

#include <cwchar>
#include <optional>
#include <string>
#include <string_view>

#include "cordon/backend_sdk.hpp"
#include "cordon/detail/base64.hpp"
#include "cordon/windows_command_line.hpp"
#include "executor_output.hpp"
#include "job_runner.hpp"
#include "prepare.hpp"
#include "private_config.hpp"
#include "win32_util.hpp"

namespace cordon::processcontainer {
namespace {

// What wxc-exec itself inherits from us: the system's layout, nothing the user or agent added
// (API keys, tokens). The contained command's environment is `process.env` of the config, applied
// by the executor.
constexpr std::wstring_view executor_environment_names[] = {
    L"ALLUSERSPROFILE", L"APPDATA", L"COMMONPROGRAMFILES", L"COMMONPROGRAMFILES(X86)", L"COMMONPROGRAMW6432",
    L"COMPUTERNAME", L"COMSPEC", L"HOMEDRIVE", L"HOMEPATH", L"LOCALAPPDATA", L"NUMBER_OF_PROCESSORS", L"OS",
    L"PATH", L"PATHEXT", L"PROCESSOR_ARCHITECTURE", L"PROCESSOR_IDENTIFIER", L"PROCESSOR_LEVEL",
    L"PROCESSOR_REVISION", L"PROGRAMDATA", L"PROGRAMFILES", L"PROGRAMFILES(X86)", L"PROGRAMW6432", L"PUBLIC",
    L"SYSTEMDRIVE", L"SYSTEMROOT", L"TEMP", L"TMP", L"USERDOMAIN", L"USERNAME", L"USERPROFILE", L"WINDIR",
};

bool allowed_name(std::wstring_view name) {
    for (auto allowed : executor_environment_names) {
        if (allowed.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i) {
            wchar_t c = name[i];
            if (c >= L'a' && c <= L'z') c = static_cast<wchar_t>(c - L'a' + L'A');
            same = c == allowed[i];
        }
        if (same) return true;
    }
    return false;
}

std::wstring executor_environment() {
    std::wstring block;
    if (wchar_t* env = ::GetEnvironmentStringsW()) {
        for (const wchar_t* entry = env; *entry; entry += std::wcslen(entry) + 1) {
            std::wstring_view e(entry);
            auto eq = e.find(L'=', 1);  // entries such as "=C:=C:\x" start with '=': never passed
            if (e.front() == L'=' || eq == std::wstring_view::npos || !allowed_name(e.substr(0, eq))) continue;
            block.append(e);
            block.push_back(L'\0');
        }
        ::FreeEnvironmentStringsW(env);
    }
    block.push_back(L'\0');
    return block;
}

bool is_directory(const std::string& path) {
    auto wide = win::widen(path);
    if (!wide) return false;
    DWORD attributes = ::GetFileAttributesW(wide->c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY);
}

bool is_absolute(std::wstring_view p) {
    bool drive = p.size() >= 3 && ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
                 (p[2] == L'\\' || p[2] == L'/');
    return drive || (p.size() > 2 && p[0] == L'\\' && p[1] == L'\\');
}

// The host's own value of a system variable (empty when unset).
std::string host_variable(const wchar_t* name) {
    DWORD size = ::GetEnvironmentVariableW(name, nullptr, 0);
    if (size == 0) return "";
    std::wstring value(size, L'\0');
    DWORD n = ::GetEnvironmentVariableW(name, value.data(), size);
    if (n == 0 || n >= size) return "";
    value.resize(n);
    return win::narrow(value);
}

RequiredEnvironment required_environment() {
    RequiredEnvironment r;
    if (std::string root = host_variable(L"SystemRoot"); !root.empty()) r.system_root = root;
    r.local_app_data = host_variable(L"LOCALAPPDATA");
    return r;
}

// The config arrives prepared (prepare(), which the host calls before it emits the config) and is
// delivered as it is.
Status run_request(const detail::RunRequest& request, RunResult& result) {
    auto executor = win::widen(request.executor_path);
    if (!executor || !is_absolute(*executor))
        return make_error(ErrorCode::unavailable, "the executor path must be an absolute Windows path",
                          request.executor_path);

    // No descriptor can be handed to wxc-exec: `descriptor` (the default) is the private file here.
    const bool by_file = request.options.delivery != ConfigDelivery::base64;
    std::optional<win::PrivateConfigFile> file;
    std::string delivered;
    if (!by_file) {
        delivered = detail::base64_encode(request.config_json);
    } else if (request.options.dry_run) {
        delivered = win::narrow(win::private_config_placeholder());
    } else {
        auto created = win::PrivateConfigFile::create(request.config_json);
        if (!created) return created.error();
        file = std::move(*created);
        delivered = win::narrow(file->path());
    }
    auto argv = executor_arguments(request.executor_path, request.options.delivery, delivered);
    auto line = windows_command_line(argv);
    if (!line) {
        if (!by_file)
            return make_error(ErrorCode::invalid_policy,
                              "the config is too large for --config-base64 (" + line.error().message +
                                  "); deliver it as a file",
                              "config_delivery");
        return make_error(line.error().code, "the executor command line: " + line.error().message, line.error().where);
    }
    result.invocation = argv;
    if (request.options.dry_run) return {};

    auto held = hold_executor(*executor);
    if (!held) {
        if (held.error().code == ErrorCode::untrusted_executor) return held.error();
        result.failure = ExecutorFailure::spawn_failed;
        result.failure_message = held.error().to_string();
        return {};
    }
    win::LaunchSpec spec;
    spec.application = *executor;
    spec.command_line = *win::widen(*line);
    spec.environment = executor_environment();
    spec.timeout_ms = request.timeout_ms;
    spec.grace_ms = request.options.grace_ms;
    spec.output_limit = request.options.output_limit;
    auto outcome = win::run_in_job(spec);
    if (!outcome) return outcome.error();
    if (outcome->spawn_error) {
        result.failure = ExecutorFailure::spawn_failed;
        result.failure_message = *outcome->spawn_error;
        return {};
    }
    result.exit_code = static_cast<int>(outcome->exit_code);
    result.out = std::move(outcome->out);
    result.err = std::move(outcome->err);
    result.out_dropped = outcome->out_dropped;
    result.err_dropped = outcome->err_dropped;
    result.duration_ms = outcome->duration_ms;
    result.timed_out = outcome->timed_out;
    classify_executor_output(result);
    return {};
}

cordon_status capabilities(const char* sdk_version, char** out, std::size_t* out_size) noexcept {
    return backend_sdk::capabilities(Backend::processcontainer, sdk_version, out, out_size);
}

cordon_status run(const char* request, std::size_t request_size, char** out, std::size_t* out_size) noexcept {
    return backend_sdk::run(request, request_size, out, out_size, run_request);
}

cordon_status prepare(const char* config, std::size_t config_size, char** out, std::size_t* out_size) noexcept {
    return backend_sdk::prepare(config, config_size, out, out_size, [](Policy& p, const Contract& contract) -> Status {
        auto done = prepare_policy(p, contract, is_directory, required_environment());
        return done ? Status{} : Status(done.error());
    });
}

const cordon_backend_v1 table{sizeof(cordon_backend_v1), CORDON_BACKEND_ABI_VERSION, "processcontainer", capabilities,
                              run, backend_sdk::free_buffer, prepare};

}  // namespace

Result<backend_sdk::win32::unique_file> hold_executor(const std::wstring& path) {
    backend_sdk::win32::unique_file file(::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                                  FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!file) {
        DWORD code = ::GetLastError();
        if (code == ERROR_SHARING_VIOLATION)
            return win::win32_error(ErrorCode::untrusted_executor,
                                    "the executor is open for writing or deletion elsewhere; refusing to run it", code,
                                    win::narrow(path));
        return win::win32_error(ErrorCode::unavailable, "cannot open the executor", code, win::narrow(path));
    }
    return file;
}

}  // namespace cordon::processcontainer

extern "C" const cordon_backend_v1* cordon_backend_processcontainer_v1(void) { return &cordon::processcontainer::table; }
