// SPDX-License-Identifier: MIT
// cordon setup: fetch the pinned MXC SDK with npm, verify the tarball and each executor against
// the pins, and place them in cordon's cache (what scripts/setup_sandbox.sh does, for an installed
// cordon). POSIX hosts; Windows uses scripts/setup_sandbox.ps1.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include <boost/json/array.hpp>
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/detail/executor_stderr.hpp"
#include "cordon/detail/sha256.hpp"
#include "cordon/executor.hpp"
#include "cordon/verified_executor.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

namespace fs = std::filesystem;

const CommandDoc setup_doc{
    "setup",
    "download the pinned MXC executor, verify it and place it in cordon's cache",
    "[--sdk VERSION]... [--platform OS]... [--arch ARCH]... [--print-env]",
    "Fetches @microsoft/mxc-sdk at each pinned SDK version with `npm pack` into a private\n"
    "temporary directory, checks the tarball and every executor in it against the SHA-256 and\n"
    "size cordon pins, and only then places the executors in cordon's cache,\n"
    "<cache>/<sdk>/bin/<arch>/<executor> (cache: $CORDON_MXC_CACHE, else $XDG_CACHE_HOME/cordon/mxc,\n"
    "else ~/.cache/cordon/mxc). `cordon run`, `verify`, `probe` and `mcp` look there by themselves.\n"
    "Files already in place are re-hashed and kept when they match: a second run does no network\n"
    "work. Prints one line per executor; the last line is the MXC_BIN_DIR that names it.",
    "0 every executor is in place and verified, 1 it could not be fetched or did not match its pin\n"
    "(nothing unverified is placed), 2 usage error.",
    "cordon setup && cordon verify",
};

struct SetupArgs {
    std::vector<std::string> sdks, platforms, arches;
    bool print_env = false;
};

struct Wanted {
    const ExecutorPin* pin = nullptr;
    fs::path dest;
};

// The pinned executors the options name, or why one of them is not installable.
Result<std::vector<Wanted>> wanted_files(const SetupArgs& a, const fs::path& root) {
    std::vector<std::string> sdks = a.sdks, oses = a.platforms;
    if (sdks.empty()) sdks.emplace_back(default_sdk_version);
    if (oses.empty()) oses.emplace_back(host_os());
    std::vector<Arch> arches;
    for (const auto& spelled : a.arches) {
        auto arch = normalize_arch(spelled);
        if (!arch) return make_error(ErrorCode::invalid_policy, arch.error().message, "--arch");
        arches.push_back(*arch);
    }
    if (arches.empty()) {
        auto arch = host_arch();
        if (!arch) return arch.error();
        arches.push_back(*arch);
    }
    std::vector<Wanted> out;
    for (const auto& sdk : sdks) {
        const SdkRelease* release = find_sdk_release(sdk);
        if (!release) return make_error(ErrorCode::unavailable, "SDK version '" + sdk + "' is not pinned by cordon", "--sdk");
        for (const auto& os : oses)
            for (Arch arch : arches) {
                const ExecutorPin* pin = nullptr;
                for (const auto& p : executor_pins)
                    if (p.sdk_version == sdk && p.os == os && p.arch == arch) pin = &p;
                if (!pin)
                    return make_error(ErrorCode::unavailable, "cordon pins no " + os + "/" + std::string(to_string(arch)) +
                                                                  " executor of SDK " + sdk + " (the package ships none)");
                out.push_back({pin, root / sdk / "bin" / std::string(to_string(arch)) / std::string(pin->file)});
            }
    }
    return out;
}

// The file's size and SHA-256 are the pinned ones. Errors: io-error, untrusted-executor (both digests).
Status file_matches(const fs::path& file, std::string_view sha256, std::uint64_t size) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return make_error(ErrorCode::io_error, std::string("cannot open: ") + std::strerror(errno), file.string());
    std::uint64_t hashed = 0;
    auto digest = detail::sha256_of_file(fd, &hashed, file.string());
    ::close(fd);
    if (!digest) return digest.error();
    const std::string actual = detail::to_hex(*digest);
    if (hashed != size || actual != sha256)
        return make_error(ErrorCode::untrusted_executor,
                          "does not match its pin: sha256 " + actual + " (expected " + std::string(sha256) + "), " +
                              std::to_string(hashed) + " bytes (expected " + std::to_string(size) + "); refusing it",
                          file.string());
    return {};
}

// Runs argv (PATH searched) in `cwd`, stdout to /dev/null, stderr kept in `err`; its exit status.
Result<int> run_program(const std::vector<std::string>& argv, const fs::path& cwd, std::string& err) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return make_error(ErrorCode::io_error, std::strerror(errno), "pipe");
    pid_t pid = ::fork();
    if (pid < 0) return make_error(ErrorCode::execution_failed, std::strerror(errno), argv[0]);
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(p[1], 2) < 0 || ::chdir(cwd.c_str()) != 0)
            ::_exit(126);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(p[1]);
    char buf[4096];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (err.size() < 16384) err.append(buf, static_cast<std::size_t>(n));
    }
    ::close(p[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A private 0700 directory, removed with everything in it.
struct WorkDir {
    fs::path path;
    WorkDir() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/cordon-setup.XXXXXX";
        if (::mkdtemp(pattern.data())) path = pattern;
    }
    ~WorkDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

// `npm pack` of one SDK release into `dir`, checked against the tarball's pin; the tarball's path.
Result<fs::path> fetch_sdk(const SdkRelease& release, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::string err;
    const std::string spec = "@microsoft/mxc-sdk@" + std::string(release.version);
    auto status = run_program({"npm", "pack", spec, "--silent"}, dir, err);
    if (!status) return status.error();
    if (*status == 127)
        return make_error(ErrorCode::unavailable,
                          "npm is not installed: install Node.js and npm (Debian: 'apt-get install nodejs npm'), then "
                          "rerun cordon setup", "npm");
    if (*status != 0)
        return make_error(ErrorCode::unavailable,
                          "npm pack " + spec + " failed (exit " + std::to_string(*status) +
                              "; network or registry problem?): " + detail::bounded_message(err),
                          "npm");
    fs::path tgz = dir / ("microsoft-mxc-sdk-" + std::string(release.version) + ".tgz");
    if (!fs::is_regular_file(tgz, ec)) return make_error(ErrorCode::unavailable, "npm pack produced no tarball", tgz.string());
    if (Status s = file_matches(tgz, release.tarball_sha256, release.tarball_size); !s) return s.error();
    return tgz;
}

// Extracts one executor from the verified tarball, checks it against its own pin, and moves it
// into place atomically: readers see the old file or the verified new one.
Status place(const fs::path& tgz, const Wanted& w, const fs::path& dir) {
    const std::string member = "package/bin/" + std::string(to_string(w.pin->arch)) + "/" + std::string(w.pin->file);
    std::string err;
    auto status = run_program({"tar", "-xzf", tgz.string(), "-C", dir.string(), member}, dir, err);
    if (!status) return status.error();
    if (*status != 0)
        return make_error(ErrorCode::untrusted_executor, "the SDK package has no " + member + ": " +
                                                             detail::bounded_message(err), tgz.string());
    if (Status s = file_matches(dir / member, w.pin->sha256, w.pin->size); !s) return s.error();
    std::error_code ec;
    fs::create_directories(w.dest.parent_path(), ec);
    if (ec) return make_error(ErrorCode::io_error, "cannot create the cache directory: " + ec.message(),
                              w.dest.parent_path().string());
    const fs::path staged = w.dest.parent_path() / ("." + std::string(w.pin->file) + "." + std::to_string(::getpid()) + ".tmp");
    fs::copy_file(dir / member, staged, fs::copy_options::overwrite_existing, ec);
    if (!ec && ::chmod(staged.c_str(), 0755) != 0) ec = std::error_code(errno, std::generic_category());
    if (!ec && !file_matches(staged, w.pin->sha256, w.pin->size)) ec = std::make_error_code(std::errc::io_error);
    if (!ec) fs::rename(staged, w.dest, ec);
    if (ec) {
        fs::remove(staged, ec);
        return make_error(ErrorCode::io_error, "cannot place the verified executor", w.dest.string());
    }
    return {};
}

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        const std::string dir = dirs.substr(start, end - start);
        if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

std::string shell_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class Setup final : public Command {
public:
    const CommandDoc& doc() const override { return setup_doc; }
    void define(CLI::App& app) override {
        opt::group(app, "Options");
        opt::repeated(app, "--sdk", a_.sdks, "VERSION", "SDK version to install (repeatable; default: cordon's default, " + std::string(default_sdk_version) + ")");
        opt::choices(app, "--platform", a_.platforms, {"linux", "win32", "darwin"},
                     "the executor's OS (repeatable; default: this OS), e.g. wxc-exec.exe for tests under wine");
        opt::repeated(app, "--arch", a_.arches, "ARCH", "x64 or arm64, any spelling (repeatable; default: this CPU)");
        opt::flag(app, "--print-env", a_.print_env, "print only `export MXC_BIN_DIR=...` on stdout (for eval)");
    }
    int run(Output& out) override;

private:
    Status install(const std::vector<Wanted>& wanted, boost::json::array& files, Output& out);
    SetupArgs a_;
};

// Keeps what already matches; fetches each SDK with a missing or wrong file once, and places it.
Status Setup::install(const std::vector<Wanted>& wanted, boost::json::array& files, Output& out) {
    std::vector<std::string_view> missing;
    auto record = [&](const Wanted& w, const char* status) {
        files.push_back({{"path", w.dest.string()}, {"sdk", w.pin->sdk_version}, {"os", w.pin->os},
                         {"arch", to_string(w.pin->arch)}, {"sha256", w.pin->sha256}, {"status", status}});
        if (!out.json())
            (a_.print_env ? std::cerr : std::cout) << status << ": " << w.dest.string() << " (SDK " << w.pin->sdk_version
                                                   << ", sha256 " << w.pin->sha256 << ")\n";
    };
    for (const auto& w : wanted) {
        if (file_matches(w.dest, w.pin->sha256, w.pin->size)) record(w, "ok");
        else if (std::find(missing.begin(), missing.end(), w.pin->sdk_version) == missing.end())
            missing.push_back(w.pin->sdk_version);
    }
    if (missing.empty()) return {};
    WorkDir work;
    if (work.path.empty()) return make_error(ErrorCode::io_error, std::string("cannot make a private temporary directory: ") + std::strerror(errno));
    for (auto sdk : missing) {
        const fs::path dir = work.path / std::string(sdk);
        auto tgz = fetch_sdk(*find_sdk_release(sdk), dir);
        if (!tgz) return tgz.error();
        for (const auto& w : wanted) {
            if (w.pin->sdk_version != sdk || file_matches(w.dest, w.pin->sha256, w.pin->size)) continue;
            if (Status s = place(*tgz, w, dir); !s) return s;
            record(w, "installed");
        }
    }
    return {};
}

int Setup::run(Output& out) {
    ::umask(022);
    for (const auto& a : a_.arches)
        if (!normalize_arch(a)) return out.usage("--arch: " + normalize_arch(a).error().message, exit_usage);
    auto root = executor_cache_root();
    if (!root) return out.fail(make_error(ErrorCode::unavailable, "no cache directory: set CORDON_MXC_CACHE or HOME"), 1);
    auto wanted = wanted_files(a_, *root);
    if (!wanted) return out.fail(wanted.error(), 1);
    boost::json::array files;
    if (Status s = install(*wanted, files, out); !s) return out.fail(s.error(), 1);
    bool linux_wanted = false;
    for (const auto& w : *wanted) linux_wanted = linux_wanted || w.pin->os == os_linux;
    if (linux_wanted && host_os() == os_linux && !on_path("bwrap"))
        out.notice("bubblewrap (bwrap) is not installed, and lxc-exec runs it: install the 'bubblewrap' package");
    const std::string bin_dir = (*root / std::string(wanted->front().pin->sdk_version) / "bin").string();
    if (out.json()) return out.result({{"cache", root->string()}, {"files", std::move(files)}, {"mxc_bin_dir", bin_dir}}, 0);
    std::cout << "export MXC_BIN_DIR=" << shell_quoted(bin_dir) << "\n";
    return 0;
}

}  // namespace

std::unique_ptr<Command> make_setup() { return std::make_unique<Setup>(); }

}  // namespace cordon::cli
