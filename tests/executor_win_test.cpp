// SPDX-License-Identifier: MIT
// Windows (run under wine by the mingw cross build): CNG SHA-256, and what the FILE_SHARE_READ-only
// handle of a VerifiedExecutor guarantees: no writer, no rename, no delete until it is closed, while
// CreateProcessW of the same file still works. Optionally verifies a real wxc-exec.exe (argv[1]).
#include <windows.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cordon/detail/sha256.hpp"
#include "cordon/verified_executor.hpp"

namespace fs = std::filesystem;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok) ++failures;
}

// Runs `exe --child` and returns its exit code (or -1).
long run_child(const fs::path& exe) {
    std::wstring cmd = L"\"" + exe.wstring() + L"\" --child";
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(exe.c_str(), cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) return -1;
    ::WaitForSingleObject(pi.hProcess, 30000);
    DWORD code = 0;
    ::GetExitCodeProcess(pi.hProcess, &code);
    ::CloseHandle(pi.hThread);
    ::CloseHandle(pi.hProcess);
    return static_cast<long>(code);
}

std::string read_all(const fs::path& p) {
    std::string bytes;
    if (FILE* f = ::_wfopen(p.c_str(), L"rb")) {
        char buf[65536];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
        std::fclose(f);
    }
    return bytes;
}

}  // namespace

// Over 80 lines on purpose: a flat list of checks run in order under wine, each a few lines.
int wmain(int argc, wchar_t** argv) {
    if (argc > 1 && std::wstring(argv[1]) == L"--child") return 42;

    using cordon::detail::sha256_of_bytes;
    using cordon::detail::to_hex;
    check(to_hex(sha256_of_bytes("").value()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "CNG SHA-256 of the empty string");
    check(to_hex(sha256_of_bytes("abc").value()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "CNG SHA-256 of 'abc'");
    std::string million(1000000, 'a');
    check(to_hex(sha256_of_bytes(million).value()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
          "CNG SHA-256 of a million 'a'");

    wchar_t self[MAX_PATH];
    ::GetModuleFileNameW(nullptr, self, MAX_PATH);
    wchar_t tmp[MAX_PATH];
    ::GetTempPathW(MAX_PATH, tmp);
    const fs::path dir = fs::path(tmp) / ("cordon-win-test-" + std::to_string(::GetCurrentProcessId()));
    fs::create_directories(dir);
    const fs::path exe = dir / "wxc-exec.exe";
    fs::copy_file(self, exe, fs::copy_options::overwrite_existing);
    const std::string bytes = read_all(exe);
    const std::string sha = to_hex(sha256_of_bytes(bytes).value());
    const std::vector<cordon::ExecutorPin> pins{
        {"9.9.9", "win32", cordon::host_arch().value(), "wxc-exec.exe", sha, bytes.size()}};

    {
        auto v = cordon::detail::verify_executor_against(exe, {}, pins);
        check(v.has_value(), "a file whose digest is pinned is trusted");
        if (!v) std::printf("  %s\n", v.error().to_string().c_str());
        if (v) {
            HANDLE w = ::CreateFileW(exe.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                     nullptr, OPEN_EXISTING, 0, nullptr);
            check(w == INVALID_HANDLE_VALUE && ::GetLastError() == ERROR_SHARING_VIOLATION,
                  "while verified: opening for write fails with a sharing violation");
            if (w != INVALID_HANDLE_VALUE) ::CloseHandle(w);
            check(!::MoveFileExW(exe.c_str(), (dir / "moved.exe").c_str(), MOVEFILE_REPLACE_EXISTING),
                  "while verified: renaming the executor fails");
            fs::copy_file(self, dir / "evil.exe", fs::copy_options::overwrite_existing);
            check(!::MoveFileExW((dir / "evil.exe").c_str(), exe.c_str(), MOVEFILE_REPLACE_EXISTING),
                  "while verified: replacing the executor by rename fails");
            check(!::DeleteFileW(exe.c_str()), "while verified: deleting the executor fails");
            std::error_code ec;
            check(fs::equivalent(v->launch_path(), exe, ec) && v->launch_path().wstring().rfind(L"\\\\?\\", 0) != 0,
                  "launch_path() is the handle's final path, without the \\\\?\\ prefix");
            std::printf("  launch_path: %s\n", v->launch_path().string().c_str());
            check(run_child(v->launch_path()) == 42, "while verified: CreateProcessW of the verified file works");
            v->close();
            check(::MoveFileExW(exe.c_str(), (dir / "moved.exe").c_str(), MOVEFILE_REPLACE_EXISTING) != 0,
                  "after close(): the file can be renamed again (the lock was ours)");
            ::MoveFileExW((dir / "moved.exe").c_str(), exe.c_str(), MOVEFILE_REPLACE_EXISTING);
        }
    }
    {
        HANDLE writer = ::CreateFileW(exe.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                      OPEN_EXISTING, 0, nullptr);
        auto v = cordon::detail::verify_executor_against(exe, {}, pins);
        check(!v.has_value() && v.error().code == cordon::ErrorCode::untrusted_executor,
              "a file somebody holds open for writing is refused");
        if (writer != INVALID_HANDLE_VALUE) ::CloseHandle(writer);
    }
    {
        std::string flipped = bytes;
        flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
        if (FILE* f = ::_wfopen((dir / "flipped.exe").c_str(), L"wb")) {
            std::fwrite(flipped.data(), 1, flipped.size(), f);
            std::fclose(f);
        }
        auto v = cordon::detail::verify_executor_against(dir / "flipped.exe", {}, pins);
        const std::string actual = to_hex(sha256_of_bytes(flipped).value());
        check(!v.has_value() && v.error().code == cordon::ErrorCode::untrusted_executor &&
                  v.error().message.find("expected " + sha) != std::string::npos &&
                  v.error().message.find("actual " + actual) != std::string::npos,
              "one flipped byte: untrusted, naming expected and actual digests");
        auto missing = cordon::detail::verify_executor_against(dir / "missing.exe", {}, pins);
        check(!missing.has_value() && missing.error().code == cordon::ErrorCode::unavailable &&
                  missing.error().message.find("setup_sandbox.ps1") != std::string::npos,
              "missing: unavailable with the PowerShell install command");
    }
    if (argc > 1) {  // a real wxc-exec.exe, checked against cordon's own pins
        auto v = cordon::verify_executor(argv[1]);
        check(v.has_value(), "the real wxc-exec.exe matches its pin");
        if (v) std::printf("  %s: SDK %s, sha256 %s\n", v->path().string().c_str(), std::string(v->sdk_version()).c_str(),
                           std::string(v->sha256()).c_str());
        else std::printf("  %s\n", v.error().to_string().c_str());
    } else {
        std::printf("skip: no real wxc-exec.exe given (argv[1])\n");
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    std::printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
