// SPDX-License-Identifier: MIT
// cordon: move-only owners for Win32 handles, each knowing which value means "no handle". Windows only.
#pragma once

#if !defined(_WIN32)
#error "cordon/backend_sdk/win32_handle.hpp is Windows-only"
#endif

#include <windows.h>  // deliberately no NOMINMAX/WIN32_LEAN_AND_MEAN: that is the embedder's choice

#include <utility>  // std::exchange

#include "cordon/config.hpp"

namespace cordon::backend_sdk::win32 {

// Win32 APIs disagree on what "no handle" looks like; each traits type says which.
struct kernel_handle_traits {  // CreateEventW, CreateJobObjectW, CreateThread, pipes: failure returns nullptr
    using type = HANDLE;
    static type empty() noexcept { return nullptr; }
    static bool valid(type h) noexcept { return h != nullptr && h != INVALID_HANDLE_VALUE; }
    static void close(type h) noexcept { ::CloseHandle(h); }
};
struct file_handle_traits {  // CreateFileW: failure returns INVALID_HANDLE_VALUE
    using type = HANDLE;
    static type empty() noexcept { return INVALID_HANDLE_VALUE; }
    static bool valid(type h) noexcept { return h != INVALID_HANDLE_VALUE && h != nullptr; }
    static void close(type h) noexcept { ::CloseHandle(h); }
};
struct process_handle_traits {  // (HANDLE)-1 is GetCurrentProcess(), a valid pseudo-handle
    using type = HANDLE;
    static type empty() noexcept { return nullptr; }
    static bool valid(type h) noexcept { return h != nullptr; }
    static void close(type h) noexcept { ::CloseHandle(h); }  // a no-op for the pseudo-handle
};
struct module_traits {
    using type = HMODULE;
    static type empty() noexcept { return nullptr; }
    static bool valid(type h) noexcept { return h != nullptr; }
    static void close(type h) noexcept { ::FreeLibrary(h); }
};
struct local_memory_traits {  // LocalAlloc'd buffers returned by ConvertSidToStringSidW and friends
    using type = HLOCAL;
    static type empty() noexcept { return nullptr; }
    static bool valid(type h) noexcept { return h != nullptr; }
    static void close(type h) noexcept { ::LocalFree(h); }
};

template <class Traits>
class unique_handle_t {
public:
    using handle_type = typename Traits::type;

    unique_handle_t() noexcept = default;
    explicit unique_handle_t(handle_type h) noexcept : h_(h) {}
    unique_handle_t(unique_handle_t&& o) noexcept : h_(o.release()) {}
    unique_handle_t& operator=(unique_handle_t&& o) noexcept {
        reset(o.release());
        return *this;
    }
    unique_handle_t(const unique_handle_t&) = delete;
    unique_handle_t& operator=(const unique_handle_t&) = delete;
    ~unique_handle_t() { reset(); }

    handle_type get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return Traits::valid(h_); }
    [[nodiscard]] handle_type release() noexcept { return std::exchange(h_, Traits::empty()); }
    void reset(handle_type h = Traits::empty()) noexcept {
        handle_type old = std::exchange(h_, h);
        if (Traits::valid(old)) Traits::close(old);
    }
    /// Closes the current handle and returns storage for a Win32 out-parameter. (No operator&.)
    handle_type* put() noexcept {
        reset();
        return &h_;
    }

private:
    handle_type h_ = Traits::empty();
};

using unique_handle = unique_handle_t<kernel_handle_traits>;
using unique_file = unique_handle_t<file_handle_traits>;
using unique_process = unique_handle_t<process_handle_traits>;
using unique_hmodule = unique_handle_t<module_traits>;
using unique_hlocal = unique_handle_t<local_memory_traits>;

}  // namespace cordon::backend_sdk::win32
