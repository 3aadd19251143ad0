// SPDX-License-Identifier: MIT
// cordon verify: find the MXC executor and check it against the pinned SHA-256.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/verified_executor.hpp"

namespace cordon::cli {

extern const std::string_view verify_help =
    "Usage: cordon verify [--executor PATH] [--sdk VERSION] [--platform OS] [--arch ARCH]\n"
    "\n"
    "Finds the MXC executor (PATH; else $MXC_BIN_DIR/<arch>/<binary>; else $MXC_BIN_DIR/<binary>;\n"
    "else the global npm package @microsoft/mxc-sdk) and checks its SHA-256 against the digests\n"
    "cordon pins (include/cordon/pins.hpp). Prints the path, where it was found, its digest and\n"
    "the SDK version it matches.\n"
    "\n"
    "  --executor PATH   check this file only (no search)\n"
    "  --sdk VERSION     accept only this SDK version's pin (default: any pinned version)\n"
    "  --platform OS     linux, win32 or darwin (default: this OS), e.g. to check wxc-exec.exe here\n"
    "  --arch ARCH       x64 or arm64 (any spelling: AMD64, aarch64, ...; default: this CPU)\n"
    "\n"
    "Exit status: 0 trusted, 1 untrusted (digest mismatch or unsafe file), 3 unavailable (not\n"
    "found; the message says how to install it), 2 usage error.\n"
    "\n"
    "Example:\n"
    "  eval \"$(scripts/setup_sandbox.sh --print-env)\" && cordon verify\n"
    "  cordon verify --executor ~/.cache/cordon/mxc/0.7.0/bin/x64/wxc-exec.exe --platform win32 --sdk 0.7.0\n";

int run_verify(const Args& args) {
    ExecutorSpec spec;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (is_help(arg)) {
            std::cout << verify_help;
            return 0;
        }
        if (arg != "--executor" && arg != "--sdk" && arg != "--platform" && arg != "--arch")
            return usage_error("verify", "unknown argument '" + std::string(arg) + "'");
        if (i + 1 >= args.size()) return usage_error("verify", std::string(arg) + " needs a value");
        const std::string value(args[++i]);
        if (arg == "--executor") {
            if (value.empty()) return usage_error("verify", "--executor needs a non-empty PATH");
            spec.explicit_path = value;
        } else if (arg == "--sdk") {
            spec.sdk_version = value;
        } else if (arg == "--platform") {
            if (!executor_file_name(value)) return usage_error("verify", "--platform must be linux, win32 or darwin");
            spec.os = value;
        } else {
            auto a = normalize_arch(value);
            if (!a) return usage_error("verify", a.error().message);
            spec.arch = *a;
        }
    }

    auto location = resolve_executor(spec);
    if (!location) {
        std::cout << "unavailable: " << location.error().to_string() << "\n";
        return 3;
    }
    std::cout << "path: " << location->path.string() << "\n"
              << "found: " << to_string(location->source) << "\n";
    auto verified = verify_executor(location->path, spec);
    if (!verified) {
        const Error& e = verified.error();
        std::cout << to_string(e.code) << ": " << e.message << "\n";
        if (e.code == ErrorCode::unavailable) return 3;
        if (e.code == ErrorCode::internal) return 70;
        return 1;  // untrusted, or unreadable: either way not something cordon will run
    }
    const ExecutorPin& pin = verified->pin();
    const SdkRelease* release = find_sdk_release(pin.sdk_version);
    std::cout << "sha256: " << verified->sha256() << "\n"
              << "sdk: " << pin.sdk_version << " (" << pin.os << "/" << to_string(pin.arch) << " " << pin.file
              << "; accepts config contracts: " << (release ? release->contracts : "none") << ")\n"
              << "trusted\n";
    return 0;
}

}  // namespace cordon::cli
