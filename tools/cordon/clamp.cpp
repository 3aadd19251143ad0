// SPDX-License-Identifier: MIT
// cordon clamp: narrow an untrusted MXC request to the operator ceiling; config on stdout, report on stderr.
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/backend.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::cli {

extern const std::string_view clamp_help =
    "Usage: cordon clamp (--ceiling FILE | --ceiling-env [PREFIX]) [--backend NAME]\n"
    "                    [--style posix|windows] [--no-canonical] [--report FILE]\n"
    "                    [--executor-dir DIR] [--sdk VERSION] REQUEST.json|-\n"
    "\n"
    "Clamps an MXC 0.6.0-alpha/0.7.0-alpha request to the operator ceiling so it can only\n"
    "narrow, and prints the clamped MXC config on stdout (valid under the pinned schema;\n"
    "0.7.0-alpha when it needs Seatbelt). The report (JSON: per requested item kept,\n"
    "narrowed, downgraded or dropped, and why) goes to stderr, or to --report FILE.\n"
    "\n"
    "  --ceiling FILE        ceiling file (docs/ceiling.md); also a trust anchor: never writable\n"
    "  --ceiling-env [P]     ceiling from P...READONLY_PATHS, ...READWRITE_PATHS, ...TIMEOUT_MS,\n"
    "                        ...NETWORK (P defaults to CORDON_; ENTRABOT_SANDBOX_ works too)\n"
    "  --backend NAME        whose capabilities decide fail-closed questions: bubblewrap,\n"
    "                        processcontainer or seatbelt (default: this host's backend)\n"
    "  --sdk VERSION         executor SDK version of the capability row (default 0.9.0)\n"
    "  --style S             path style, default this host's; windows needs --no-canonical here\n"
    "  --no-canonical        lexical only: no symlink resolution (for testing other styles)\n"
    "  --executor-dir DIR    the executor's directory, a trust anchor never granted read-write\n"
    "\n"
    "Exit status: 0 clamped, 1 refused (fail closed: the backend cannot enforce what the\n"
    "result needs), 2 usage, ceiling or request error.\n"
    "\n"
    "Example:\n"
    "  echo '{\"readwritePaths\":[\"C:\\\\work\"],\"timeout\":30000}' > ceiling.json\n"
    "  echo '{\"version\":\"0.6.0-alpha\",\"process\":{\"commandLine\":\"dir\"},\n"
    "        \"filesystem\":{\"readwritePaths\":[\"c:\\\\WORK\\\\src\",\"C:\\\\Windows\"]}}' |\n"
    "    cordon clamp --ceiling ceiling.json --backend processcontainer --style windows \\\n"
    "      --no-canonical --report report.json -\n";

namespace {

int fail(const Error& e, int status) {
    std::cerr << "cordon clamp: " << to_string(e.code) << ": " << e.to_string() << "\n";
    return status;
}

bool is_prefix_word(std::string_view s) {
    if (s.empty() || s.back() != '_') return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

int run_clamp(const Args& args) {
    std::optional<std::string> ceiling_file, env_prefix, report_file, executor_dir, request_file;
    std::string backend_name(to_string(host_backend()));
    std::string sdk(default_sdk_version);
    PathStyle style = host_path_style();
    bool canonicalize = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        auto value = [&](std::optional<std::string>& out) {
            if (i + 1 >= args.size()) return false;
            out = std::string(args[++i]);
            return true;
        };
        if (is_help(a)) {
            std::cout << clamp_help;
            return 0;
        } else if (a == "--ceiling") {
            if (!value(ceiling_file)) return usage_error("clamp", "--ceiling needs a FILE");
        } else if (a == "--ceiling-env") {
            env_prefix = "CORDON_";
            if (i + 2 < args.size() && is_prefix_word(args[i + 1])) env_prefix = std::string(args[++i]);
        } else if (a.rfind("--ceiling-env=", 0) == 0) {
            env_prefix = std::string(a.substr(14));
        } else if (a == "--backend") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error("clamp", "--backend needs a NAME");
            backend_name = *v;
        } else if (a == "--sdk") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error("clamp", "--sdk needs a VERSION");
            sdk = *v;
        } else if (a == "--style") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error("clamp", "--style needs posix or windows");
            if (*v == "posix") style = PathStyle::posix;
            else if (*v == "windows") style = PathStyle::windows;
            else return usage_error("clamp", "--style must be posix or windows, not '" + *v + "'");
        } else if (a == "--no-canonical") {
            canonicalize = false;
        } else if (a == "--report") {
            if (!value(report_file)) return usage_error("clamp", "--report needs a FILE");
        } else if (a == "--executor-dir") {
            if (!value(executor_dir)) return usage_error("clamp", "--executor-dir needs a DIR");
        } else if (a.size() > 1 && a[0] == '-') {
            return usage_error("clamp", "unknown option '" + std::string(a) + "'");
        } else if (request_file) {
            return usage_error("clamp", "expected one REQUEST file, got '" + *request_file + "' and '" + std::string(a) + "'");
        } else {
            request_file = std::string(a);
        }
    }
    if (!request_file) return usage_error("clamp", "expected a REQUEST file (or - for standard input)");
    if (ceiling_file.has_value() == env_prefix.has_value())
        return usage_error("clamp", "give exactly one of --ceiling FILE and --ceiling-env [PREFIX]");
    auto backend = backend_from_string(backend_name);
    if (!backend || *backend == Backend::session)
        return usage_error("clamp", "unknown backend '" + backend_name + "'; expected bubblewrap, processcontainer or seatbelt");
    auto caps = capabilities_for(*backend, sdk);
    if (!caps) return usage_error("clamp", "no capability data for " + backend_name + " with SDK " + sdk);
    if (canonicalize && style != host_path_style())
        return usage_error("clamp", "--style " + std::string(to_string(style)) +
                                        " cannot be canonicalised on this host; add --no-canonical");

    CeilingOptions ceiling_options{style, canonicalize};
    auto ceiling = ceiling_file ? load_ceiling_file(*ceiling_file, ceiling_options)
                                : ceiling_from_env(*env_prefix, ceiling_options);
    if (!ceiling) return fail(ceiling.error(), exit_usage);
    auto text = read_input(*request_file);
    if (!text) return fail(text.error(), exit_usage);
    auto request = from_mxc_json(*text);
    if (!request) {
        Error e = request.error();
        e.where = (*request_file == "-" ? std::string("<stdin>") : *request_file) + ": " + e.where;
        return fail(e, exit_usage);
    }
    auto out = clamp(*request, *ceiling, *caps, ClampOptions{style, canonicalize, executor_dir});
    if (!out) return fail(out.error(), out.error().code == ErrorCode::backend_unsupported ? 1 : exit_usage);
    auto json = to_mxc_json(out->policy, emit_contract(out->policy));
    if (!json) return fail(json.error(), 1);

    std::string report = out->report.to_json() + "\n";
    if (report_file) {
        std::ofstream f(*report_file, std::ios::binary | std::ios::trunc);
        if (!(f << report)) return fail(make_error(ErrorCode::io_error, "cannot write the report", *report_file), exit_usage);
    } else {
        std::cerr << report;
    }
    std::cout << *json << "\n";
    return 0;
}

}  // namespace cordon::cli
