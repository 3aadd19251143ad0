// SPDX-License-Identifier: MIT
// cordon processcontainer backend: a per-run config file only the current user can open. Windows only.
#pragma once

#include <string>
#include <string_view>

#include "cordon/error.hpp"

namespace cordon::processcontainer::win {

/// `<parent>\cordon-<128 random bits>\config.json`. The directory is created with a protected DACL
/// holding one ACE, full control for the current user's SID, inherited by the file; nothing else
/// (not Administrators, not SYSTEM, not the AppContainer) gets in through inheritance from %TEMP%.
/// A fresh random name, created with CreateDirectoryW (fails if it exists) and the file with
/// CREATE_NEW, so nothing planted in advance is ever used. Both are removed when the object is
/// destroyed (also after timeouts and early returns). Move-only.
class PrivateConfigFile {
public:
    /// `parent` empty = GetTempPathW. Errors: io_error naming what could not be created or written.
    static Result<PrivateConfigFile> create(std::string_view contents, const std::wstring& parent = {});

    const std::wstring& path() const noexcept { return path_; }
    const std::wstring& directory() const noexcept { return dir_; }

    PrivateConfigFile(PrivateConfigFile&& other) noexcept;
    PrivateConfigFile& operator=(PrivateConfigFile&& other) noexcept;
    PrivateConfigFile(const PrivateConfigFile&) = delete;
    PrivateConfigFile& operator=(const PrivateConfigFile&) = delete;
    ~PrivateConfigFile();

private:
    PrivateConfigFile() = default;
    void remove() noexcept;
    std::wstring dir_;
    std::wstring path_;
};

/// The SDDL of the DACL above for the current user, e.g. `D:P(A;OICI;FA;;;S-1-5-21-...)`.
/// Errors: io_error if the process token cannot be read.
Result<std::wstring> private_dacl_sddl();

/// The directory name PrivateConfigFile would use under `parent`, with the random part shown as
/// X's: what a dry run reports instead of creating anything.
std::wstring private_config_placeholder(const std::wstring& parent = {});

}  // namespace cordon::processcontainer::win
