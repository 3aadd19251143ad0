// SPDX-License-Identifier: MIT
// A fake wxc-exec.exe for the processcontainer tests under wine, where the real executor cannot run
// (no AppContainer). It takes a config the way wxc-exec does (--config FILE | --config-base64 B64,
// nothing else, no stdin; anything else is a clap-style usage error, exit 2), records what it
// received, then plays the contained command: the
// config's process.commandLine (MSVCRT-parsed) is a script of
//   --record FILE          write what this process saw as JSON (argv, config, DACL of its directory, job, stdin, env)
//   --stdout T / --stderr T  print T
//   --sleep MS             sleep
//   --spawn-grandchild F   start a grandchild that inherits stdout/stderr and sleeps 60 s; its pid goes to F
//   --flood N / --flood-stderr N   write N bytes
//   --error-json M         wxc-exec's backend failure: "Process error: M{"error":{...}}" on stderr, exit -1
//   --request-error M      wxc-exec's config rejection: "Request error\nM" on stderr, exit 1
//   --leak-stdout-to PID F  duplicate our stdout into process PID (outside the job); the handle value goes to F
//   --exit N               exit with N
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>

#include <cstdlib>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"
#include "cordon/detail/utf16.hpp"
#include "cordon/windows_command_line.hpp"

namespace {

std::string narrow(const std::wstring& w) {
    auto s = cordon::detail::utf16_to_utf8(std::u16string(w.begin(), w.end()));
    return s ? *s : std::string("?");
}

std::wstring widen(const std::string& s) {
    auto w = cordon::detail::utf8_to_utf16(s);
    return w ? std::wstring(w->begin(), w->end()) : std::wstring();
}

void write(DWORD which, const std::string& text) {
    HANDLE h = ::GetStdHandle(which);
    std::size_t done = 0;
    while (done < text.size()) {
        DWORD n = 0;
        if (!::WriteFile(h, text.data() + done, static_cast<DWORD>(text.size() - done), &n, nullptr)) return;
        done += n;
    }
}

std::vector<std::string> own_argv() {
    int argc = 0;
    wchar_t** argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
    std::vector<std::string> out;
    for (int i = 0; i < argc; ++i) out.push_back(narrow(argv[i]));
    ::LocalFree(argv);
    return out;
}

std::optional<std::string> read_file(const std::wstring& path) {
    HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return std::nullopt;
    std::string data;
    char buffer[4096];
    DWORD n = 0;
    while (::ReadFile(h, buffer, sizeof buffer, &n, nullptr) && n > 0) data.append(buffer, n);
    ::CloseHandle(h);
    return data;
}

boost::json::object dacl_of(const std::wstring& path) {
    boost::json::object out;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    DWORD rc = ::GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl,
                                       nullptr, &sd);
    out["status"] = static_cast<std::int64_t>(rc);
    if (rc != ERROR_SUCCESS) return out;
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    ::GetSecurityDescriptorControl(sd, &control, &revision);
    out["protected"] = (control & SE_DACL_PROTECTED) != 0;
    boost::json::array aces;
    if (dacl) {
        for (DWORD i = 0; i < dacl->AceCount; ++i) {
            void* ace = nullptr;
            if (!::GetAce(dacl, i, &ace)) continue;
            auto* header = static_cast<ACE_HEADER*>(ace);
            boost::json::object a;
            a["type"] = header->AceType;
            a["flags"] = header->AceFlags;
            if (header->AceType == ACCESS_ALLOWED_ACE_TYPE || header->AceType == ACCESS_DENIED_ACE_TYPE) {
                auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
                a["mask"] = static_cast<std::int64_t>(allowed->Mask);
                wchar_t* sid = nullptr;
                if (::ConvertSidToStringSidW(reinterpret_cast<PSID>(&allowed->SidStart), &sid)) {
                    a["sid"] = narrow(sid);
                    ::LocalFree(sid);
                }
            }
            aces.push_back(std::move(a));
        }
    }
    out["aces"] = std::move(aces);
    ::LocalFree(sd);
    return out;
}

boost::json::array env_names() {
    boost::json::array names;
    wchar_t* env = ::GetEnvironmentStringsW();
    for (const wchar_t* e = env; e && *e; e += std::wcslen(e) + 1) {
        std::wstring entry(e);
        auto eq = entry.find(L'=', 1);
        names.emplace_back(narrow(entry.substr(0, eq)));
    }
    if (env) ::FreeEnvironmentStringsW(env);
    return names;
}

bool stdin_at_eof() {
    char c;
    DWORD n = 1;
    BOOL ok = ::ReadFile(::GetStdHandle(STD_INPUT_HANDLE), &c, 1, &n, nullptr);
    return ok && n == 0;
}

int grandchild() {
    write(STD_OUTPUT_HANDLE, "GRANDCHILD_STARTED pid=" + std::to_string(::GetCurrentProcessId()) + "\n");
    ::Sleep(60000);
    write(STD_OUTPUT_HANDLE, "GRANDCHILD_DONE\n");
    return 0;
}

DWORD spawn_grandchild() {
    wchar_t self[MAX_PATH * 4];
    ::GetModuleFileNameW(nullptr, self, MAX_PATH * 4);
    std::wstring line = L"\"" + std::wstring(self) + L"\" --grandchild";
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = ::GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(self, line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi))
        return 0;
    ::CloseHandle(pi.hThread);
    ::CloseHandle(pi.hProcess);
    return pi.dwProcessId;
}

void write_file(const std::string& path, const std::string& text) {
    HANDLE h = ::CreateFileW(widen(path).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return;
    DWORD n = 0;
    ::WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &n, nullptr);
    ::CloseHandle(h);
}

}  // namespace

// Over 80 lines on purpose: one pass in wxc-exec's own order (argv, the config, the job, the
// result), so that a reader can hold it against the real executor's behaviour step by step.
int main() {
    const auto argv = own_argv();
    if (argv.size() == 2 && argv[1] == "--grandchild") return grandchild();
    if (argv.size() != 3 || (argv[1] != "--config" && argv[1] != "--config-base64")) {
        write(STD_ERROR_HANDLE, "error: unexpected arguments (fake wxc-exec takes --config FILE or --config-base64 B64)\n\n"
                                "Usage: wxc-exec.exe [OPTIONS] [CONFIG_PATH] [-- <COMMAND>...]\n");
        return 2;
    }
    boost::json::object record;
    boost::json::array args;
    for (const auto& a : argv) args.emplace_back(a);
    record["argv"] = std::move(args);
    record["pid"] = static_cast<std::int64_t>(::GetCurrentProcessId());
    std::optional<std::string> config;
    if (argv[1] == "--config") {
        std::wstring path = widen(argv[2]);
        record["delivery"] = "file";
        record["config_path"] = argv[2];
        config = read_file(path);
        record["config_existed"] = config.has_value();
        record["config_dir_dacl"] = dacl_of(path.substr(0, path.find_last_of(L'\\')));
        record["config_file_dacl"] = dacl_of(path);
        if (!config) {
            write(STD_ERROR_HANDLE, "Request error\nConfiguration file not found: " + argv[2] + "\n");
            return 1;
        }
    } else {
        record["delivery"] = "base64";
        config = cordon::detail::base64_decode(argv[2]);
        if (!config) {
            write(STD_ERROR_HANDLE, "Request error\nFailed to decode base64 configuration\n");
            return 1;
        }
    }
    record["config_text"] = *config;
    BOOL in_job = FALSE;
    ::IsProcessInJob(::GetCurrentProcess(), nullptr, &in_job);
    record["in_job"] = in_job != FALSE;
    record["stdin_eof"] = stdin_at_eof();
    record["env"] = env_names();
    wchar_t cwd[MAX_PATH * 4];
    ::GetCurrentDirectoryW(MAX_PATH * 4, cwd);
    record["cwd"] = narrow(cwd);

    boost::json::value doc;
    try {
        doc = boost::json::parse(*config);
    } catch (const std::exception& e) {
        write(STD_ERROR_HANDLE, std::string("Request error\nInvalid JSON syntax: ") + e.what() + "\n");
        return 1;
    }
    std::string command(doc.at("process").at("commandLine").as_string());
    auto script = cordon::windows_parse_command_line(command);
    // --record first, so a run that is killed later still leaves its record.
    for (std::size_t i = 1; i + 1 < script.size(); ++i)
        if (script[i] == "--record") write_file(script[i + 1], boost::json::serialize(record));

    for (std::size_t i = 1; i < script.size(); ++i) {
        const std::string& op = script[i];
        const std::string arg = i + 1 < script.size() ? script[i + 1] : std::string();
        if (op == "--record") {
            ++i;
        } else if (op == "--stdout") {
            write(STD_OUTPUT_HANDLE, arg), ++i;
        } else if (op == "--stderr") {
            write(STD_ERROR_HANDLE, arg), ++i;
        } else if (op == "--sleep") {
            ::Sleep(static_cast<DWORD>(std::stoul(arg))), ++i;
        } else if (op == "--spawn-grandchild") {
            write_file(arg, std::to_string(spawn_grandchild())), ++i;
        } else if (op == "--flood" || op == "--flood-stderr") {
            std::string chunk(64 * 1024, 'x');
            std::size_t left = std::stoull(arg);
            while (left) {
                std::size_t n = left < chunk.size() ? left : chunk.size();
                write(op == "--flood" ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE, chunk.substr(0, n));
                left -= n;
            }
            ++i;
        } else if (op == "--error-json") {
            boost::json::object error{{"error", boost::json::object{{"code", "backend_error"}, {"message", arg}}}};
            write(STD_ERROR_HANDLE, "Process error: " + arg + boost::json::serialize(error) + "\n");
            return -1;  // as the real one (Rust's exit(-1)): 0xFFFFFFFF
        } else if (op == "--request-error") {
            write(STD_ERROR_HANDLE, "Request error\n" + arg + "\n");
            return 1;
        } else if (op == "--leak-stdout-to" && i + 2 < script.size()) {
            HANDLE target = ::OpenProcess(PROCESS_DUP_HANDLE, FALSE, static_cast<DWORD>(std::stoul(arg)));
            HANDLE copy = nullptr;
            if (target && ::DuplicateHandle(::GetCurrentProcess(), ::GetStdHandle(STD_OUTPUT_HANDLE), target, &copy, 0,
                                            FALSE, DUPLICATE_SAME_ACCESS))
                write_file(script[i + 2], std::to_string(reinterpret_cast<std::uintptr_t>(copy)));
            if (target) ::CloseHandle(target);
            i += 2;
        } else if (op == "--exit") {
            return std::atoi(arg.c_str());
        }
    }
    return 0;
}
