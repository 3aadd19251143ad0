// SPDX-License-Identifier: MIT
// Deliberate bugs, one per argument, so tests/sanitizer_canary.sh can prove that the sanitized build
// (at whatever optimisation level scripts/test.sh picks) still reports each class it relies on.
// Every input comes from argv, so no optimiser can prove the bug away.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

int heap_overflow(int n) {
    char* p = static_cast<char*>(std::malloc(static_cast<std::size_t>(n)));
    std::memset(p, 1, static_cast<std::size_t>(n));
    int r = p[n];  // one past the end
    std::free(p);
    return r;
}

int use_after_free(int n) {
    int* p = new int[static_cast<std::size_t>(n)];
    p[0] = n;
    delete[] p;
    return p[0];
}

int stack_overflow(int n) {
    volatile char buf[16];
    for (int i = 0; i < 16; ++i) buf[i] = static_cast<char>(i);
    return buf[n];  // n = 16 (meson.build leaves UBSan's bounds checks out of this program)
}

int signed_overflow(int n) { return n + INT_MAX; }  // n = 1

int misaligned(int n) {
    alignas(8) char buf[16] = {};
    int* p = reinterpret_cast<int*>(buf + n);  // n = 1
    return *p;
}

// On a thread of its own: once it is joined, no stack LeakSanitizer scans can hold the pointer. On
// the main thread a stale copy in a dead frame that the exit path reused made half of the runs
// count the block as reachable (log_pointers=1 found it on the main stack).
int leak(int n) {
    std::thread([n] {
        void* p = std::malloc(static_cast<std::size_t>(n) * 100);
        std::printf("%p\n", p);
    }).join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) return std::fprintf(stderr, "usage: sanitizer_canary CASE N\n"), 64;
    std::string c = argv[1];
    int n = std::atoi(argv[2]);
    if (c == "heap-buffer-overflow") return heap_overflow(n);
    if (c == "heap-use-after-free") return use_after_free(n);
    if (c == "stack-buffer-overflow") return stack_overflow(n);
    if (c == "signed-integer-overflow") return signed_overflow(n);
    if (c == "misaligned") return misaligned(n);
    if (c == "leak") return leak(n);
    return 64;
}
