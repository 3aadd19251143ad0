// SPDX-License-Identifier: MIT
// cordon verify: find the MXC executor and check it against the pinned SHA-256.
#include <iostream>

#include <boost/json/object.hpp>
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/verified_executor.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

const CommandDoc verify_doc{
    "verify",
    "find the MXC executor and check it against the pinned SHA-256",
    "[--executor PATH] [--sdk VERSION] [--platform OS] [--arch ARCH]",
    "Finds the MXC executor (PATH; else $MXC_BIN_DIR/<arch>/<binary>; else $MXC_BIN_DIR/<binary>;\n"
    "else cordon's cache, filled by `cordon setup`; else the global npm package @microsoft/mxc-sdk)\n"
    "and checks its SHA-256 against the digests cordon pins. Prints the path, where it was found,\n"
    "its digest and the SDK version it matches.",
    "0 trusted, 1 untrusted (digest mismatch or unsafe file), 3 unavailable (not found; the message\n"
    "says how to install it), 2 usage error. Errors go to stderr (with --json: in the object).",
    "cordon setup && cordon verify\n"
    "cordon verify --sdk 1.0.1 --json",
};

class Verify final : public Command {
public:
    const CommandDoc& doc() const override { return verify_doc; }
    void define(CLI::App& app) override {
        opt::group(app, "Options");
        opt::single(app, "--executor", executor_, "PATH", "check this file only (no search)");
        opt::single(app, "--sdk", sdk_, "VERSION", "accept only this SDK version's pin (default: any pinned version)");
        opt::choice(app, "--platform", platform_, {"linux", "win32", "darwin"},
                    "the executor's OS (default: this OS), e.g. to check wxc-exec.exe here");
        opt::single(app, "--arch", arch_, "ARCH", "x64 or arm64 (any spelling: AMD64, aarch64, ...; default: this CPU)");
    }
    int run(Output& out) override;

private:
    std::optional<std::string> executor_, sdk_, platform_, arch_;
};

int Verify::run(Output& out) {
    ExecutorSpec spec;
    if (executor_) {
        if (executor_->empty()) return out.usage("--executor needs a non-empty PATH", exit_usage);
        spec.explicit_path = *executor_;
    }
    if (sdk_) spec.sdk_version = *sdk_;
    if (platform_) spec.os = *platform_;
    if (arch_) {
        auto a = normalize_arch(*arch_);
        if (!a) return out.usage("--arch: " + a.error().message, exit_usage);
        spec.arch = *a;
    }
    auto location = resolve_executor(spec);
    if (!location) return out.fail(location.error(), 3);
    boost::json::object result{{"path", location->path.string()}, {"found", to_string(location->source)}};
    if (!out.json())
        std::cout << "path: " << location->path.string() << "\n"
                  << "found: " << to_string(location->source) << "\n";
    auto verified = verify_executor(location->path, spec);
    if (!verified) {
        const Error& e = verified.error();
        // untrusted, or unreadable: either way not something cordon will run
        const int status = e.code == ErrorCode::unavailable ? 3 : e.code == ErrorCode::internal ? exit_internal : 1;
        if (!out.json()) return out.fail(e, status);
        result["error"] = {{"code", to_string(e.code)}, {"message", e.message}, {"where", e.where}};
        result["trusted"] = false;
        return out.result(std::move(result), status);
    }
    const ExecutorPin& pin = verified->pin();
    const SdkRelease* release = find_sdk_release(pin.sdk_version);
    const std::string contracts(release ? release->contracts : "");
    if (out.json()) {
        result.insert({{"sha256", verified->sha256()}, {"sdk", pin.sdk_version}, {"os", pin.os},
                       {"arch", to_string(pin.arch)}, {"file", pin.file}, {"contracts", contracts}, {"trusted", true}});
        return out.result(std::move(result), 0);
    }
    std::cout << "sha256: " << verified->sha256() << "\n"
              << "sdk: " << pin.sdk_version << " (" << pin.os << "/" << to_string(pin.arch) << " " << pin.file
              << "; accepts config contracts: " << (release ? contracts : "none") << ")\n"
              << "trusted\n";
    return 0;
}

}  // namespace

std::unique_ptr<Command> make_verify() { return std::make_unique<Verify>(); }

}  // namespace cordon::cli
