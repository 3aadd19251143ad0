// SPDX-License-Identifier: MIT
// Test support: a private temporary directory tree with real files and symlinks, removed afterwards.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace cordon::test {

class TempTree {
public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "cordon-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        char* real = ::realpath(pattern.c_str(), nullptr);  // /tmp may itself be a symlink
        if (!real) throw std::runtime_error("realpath failed");
        root_ = real;
        std::free(real);
    }
    ~TempTree() {
        std::error_code ec;
        std::filesystem::permissions(root_, std::filesystem::perms::owner_all, ec);
        for (auto it = std::filesystem::recursive_directory_iterator(
                 root_, std::filesystem::directory_options::skip_permission_denied, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
            if (it->is_directory(ec) && !it->is_symlink(ec))
                std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                             std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(root_, ec);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::string& root() const { return root_; }
    /// Absolute spelling of `relative` under the root (no resolution).
    std::string path(const std::string& relative) const { return relative.empty() ? root_ : root_ + "/" + relative; }
    std::string dir(const std::string& relative) const {
        std::filesystem::create_directories(path(relative));
        return path(relative);
    }
    std::string file(const std::string& relative, const std::string& text = "x") const {
        std::filesystem::path p = path(relative);
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    std::string link(const std::string& relative, const std::string& target) const {
        std::filesystem::path p = path(relative);
        std::filesystem::create_directories(p.parent_path());
        if (::symlink(target.c_str(), p.c_str()) != 0) throw std::runtime_error("symlink failed: " + p.string());
        return p.string();
    }

private:
    std::string root_;
};

}  // namespace cordon::test
