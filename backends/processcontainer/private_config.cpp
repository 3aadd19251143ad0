// SPDX-License-Identifier: MIT
// cordon processcontainer backend: private per-run config directory and file (owner-only DACL).
#include "private_config.hpp"

#include <windows.h>
#include <bcrypt.h>
#include <sddl.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "cordon/backend_sdk/win32_handle.hpp"
#include "win32_util.hpp"

namespace cordon::processcontainer::win {
namespace {

using backend_sdk::win32::unique_file;
using backend_sdk::win32::unique_handle;
using backend_sdk::win32::unique_hlocal;

Result<std::wstring> temp_dir(const std::wstring& parent) {
    if (!parent.empty()) return parent.back() == L'\\' ? parent : parent + L'\\';
    wchar_t buffer[MAX_PATH + 2];
    DWORD n = ::GetTempPathW(MAX_PATH + 2, buffer);
    if (n == 0 || n > MAX_PATH + 1)
        return win32_error(ErrorCode::io_error, "cannot find the temporary directory", ::GetLastError());
    std::wstring dir(buffer, n);
    if (dir.back() != L'\\') dir += L'\\';
    return dir;
}

Result<std::wstring> random_hex(std::size_t bytes) {
    std::vector<unsigned char> random(bytes);
    if (!BCRYPT_SUCCESS(::BCryptGenRandom(nullptr, random.data(), static_cast<ULONG>(random.size()),
                                          BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
        return make_error(ErrorCode::io_error, "BCryptGenRandom failed");
    static constexpr wchar_t digits[] = L"0123456789abcdef";
    std::wstring out;
    for (unsigned char b : random) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace

Result<std::wstring> private_dacl_sddl() {
    unique_handle token;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, token.put()))
        return win32_error(ErrorCode::io_error, "cannot open the process token", ::GetLastError());
    DWORD size = 0;
    ::GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size ? size : 1);
    if (!::GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size))
        return win32_error(ErrorCode::io_error, "cannot read the process token's user", ::GetLastError());
    wchar_t* sid = nullptr;
    if (!::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid))
        return win32_error(ErrorCode::io_error, "ConvertSidToStringSidW", ::GetLastError());
    unique_hlocal sid_owner(sid);
    // D: DACL, P: protected (no ACEs inherited from %TEMP%), A: allow, OICI: inherited by files and
    // subdirectories, FA: FILE_ALL_ACCESS.
    return L"D:P(A;OICI;FA;;;" + std::wstring(sid) + L")";
}

std::wstring private_config_placeholder(const std::wstring& parent) {
    auto dir = temp_dir(parent);
    return (dir ? *dir : std::wstring(L"%TEMP%\\")) + L"cordon-" + std::wstring(32, L'X') + L"\\config.json";
}

Result<PrivateConfigFile> PrivateConfigFile::create(std::string_view contents, const std::wstring& parent) {
    auto base = temp_dir(parent);
    if (!base) return base.error();
    auto sddl = private_dacl_sddl();
    if (!sddl) return sddl.error();
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl->c_str(), SDDL_REVISION_1, &descriptor, nullptr))
        return win32_error(ErrorCode::io_error, "cannot build the private DACL", ::GetLastError());
    unique_hlocal descriptor_owner(descriptor);
    SECURITY_ATTRIBUTES attributes{sizeof(SECURITY_ATTRIBUTES), descriptor, FALSE};

    PrivateConfigFile file;
    for (int attempt = 0;; ++attempt) {
        auto name = random_hex(16);
        if (!name) return name.error();
        std::wstring dir = *base + L"cordon-" + *name;
        if (::CreateDirectoryW(dir.c_str(), &attributes)) {
            file.dir_ = dir;
            break;
        }
        DWORD code = ::GetLastError();
        if (code != ERROR_ALREADY_EXISTS || attempt >= 8)
            return win32_error(ErrorCode::io_error, "cannot create the private config directory", code, narrow(dir));
    }
    file.path_ = file.dir_ + L"\\config.json";
    unique_file handle(::CreateFileW(file.path_.c_str(), GENERIC_WRITE, 0, &attributes, CREATE_NEW,
                                     FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!handle) return win32_error(ErrorCode::io_error, "cannot create the config file", ::GetLastError(), narrow(file.path_));
    std::size_t written_total = 0;
    while (written_total < contents.size()) {
        DWORD chunk = static_cast<DWORD>((std::min)(contents.size() - written_total, std::size_t{1} << 30));
        DWORD written = 0;
        if (!::WriteFile(handle.get(), contents.data() + written_total, chunk, &written, nullptr) || written == 0)
            return win32_error(ErrorCode::io_error, "cannot write the config file", ::GetLastError(), narrow(file.path_));
        written_total += written;
    }
    return file;
}

PrivateConfigFile::PrivateConfigFile(PrivateConfigFile&& other) noexcept
    : dir_(std::exchange(other.dir_, {})), path_(std::exchange(other.path_, {})) {}

PrivateConfigFile& PrivateConfigFile::operator=(PrivateConfigFile&& other) noexcept {
    if (this != &other) {
        remove();
        dir_ = std::exchange(other.dir_, {});
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

PrivateConfigFile::~PrivateConfigFile() { remove(); }

void PrivateConfigFile::remove() noexcept {
    // A scanner or an indexer may hold the file for a moment on Windows: retry briefly.
    for (int attempt = 0; attempt < 10; ++attempt) {
        bool file_gone = path_.empty() || ::DeleteFileW(path_.c_str()) || ::GetLastError() == ERROR_FILE_NOT_FOUND;
        bool dir_gone = dir_.empty() || ::RemoveDirectoryW(dir_.c_str()) || ::GetLastError() == ERROR_FILE_NOT_FOUND;
        if (file_gone && dir_gone) break;
        ::Sleep(20);
    }
    path_.clear();
    dir_.clear();
}

}  // namespace cordon::processcontainer::win
