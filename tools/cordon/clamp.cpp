// SPDX-License-Identifier: MIT
// cordon clamp: narrow an untrusted MXC request to the operator ceiling; config on stdout, report on stderr.
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "ceiling_source.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "cordon/backend.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/output_file.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/pins.hpp"

#include <boost/json/parse.hpp>

namespace cordon::cli {

extern const std::string_view clamp_help =
    "Usage: cordon clamp (--ceiling FILE | --ceiling-env [PREFIX]) [--backend NAME]\n"
    "                    [--style posix|windows] [--no-canonical] [--report FILE]\n"
    "                    [--executor-dir DIR] [--sdk VERSION] [--contract VERSION]\n"
    "                    REQUEST.json|-\n"
    "\n"
    "Clamps an MXC request (any contract `cordon check` reads) to the operator ceiling so it\n"
    "can only narrow, and prints the clamped MXC config on stdout: in the newest contract the\n"
    "executor SDK accepts that can express it (1.0.0 for SDK 1.0.1), or in --contract. The\n"
    "report (JSON: per requested item kept, narrowed, downgraded or dropped, and why; fields\n"
    "spelled as in the request) goes to stderr, or to --report FILE.\n"
    "\n"
    "  --ceiling FILE        ceiling file (docs/ceiling.md); also a trust anchor: never writable\n"
    "  --ceiling-env [P]     ceiling from P...READONLY_PATHS, ...READWRITE_PATHS, ...TIMEOUT_MS,\n"
    "                        ...NETWORK (P defaults to CORDON_; ENTRABOT_SANDBOX_ works too)\n"
    "  --backend NAME        whose capabilities decide fail-closed questions: bubblewrap,\n"
    "                        processcontainer or seatbelt (default: this host's backend)\n"
    "  --sdk VERSION         executor SDK whose contracts and capability row apply (default 1.0.1)\n"
    "  --contract VERSION    emit this contract (one the SDK accepts), e.g. 0.6.0-alpha with --sdk 0.9.0\n"
    "  --style S             path style, default this host's; windows needs --no-canonical here\n"
    "  --no-canonical        lexical only: no symlink resolution (for testing other styles)\n"
    "  --executor-dir DIR    the executor's directory, a trust anchor never granted read-write\n"
    "\n"
    "Exit status: 0 clamped, 1 refused (fail closed: the backend cannot enforce what the\n"
    "result needs), 2 usage, ceiling or request error.\n"
    "\n"
    "Example:\n"
    "  echo '{\"readwritePaths\":[\"C:\\\\work\"],\"timeout\":30000}' > ceiling.json\n"
    "  echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"dir\"},\n"
    "        \"filesystem\":{\"readwritePaths\":[\"c:\\\\WORK\\\\src\",\"C:\\\\Windows\"]}}' |\n"
    "    cordon clamp --ceiling ceiling.json --backend processcontainer --style windows \\\n"
    "      --no-canonical --report report.json -\n";

extern const std::string_view explain_help =
    "Usage: cordon explain (--ceiling FILE | --ceiling-env [PREFIX]) [--backend NAME]\n"
    "                      [--style posix|windows] [--no-canonical] [--executor-dir DIR]\n"
    "                      [--sdk VERSION] [--contract VERSION] REQUEST.json|-\n"
    "\n"
    "Clamps the request like `cordon clamp` and prints the decisions as a table: for each\n"
    "requested item whether it was kept, narrowed, downgraded or dropped, what it became,\n"
    "and why. This is what an operator reads when an agent reports that a path was refused.\n"
    "Options as for `cordon clamp`. Exit status: 0 clamped, 1 refused, 2 usage or input error.\n"
    "\n"
    "Example:\n"
    "  cordon explain --ceiling examples/ceilings/workstation.json examples/requests/agent-build.json\n";

namespace {

int fail(std::string_view command, const Error& e, int status) {
    std::cerr << "cordon " << command << ": " << to_string(e.code) << ": " << e.to_string() << "\n";
    return status;
}

bool is_prefix_word(std::string_view s) {
    if (s.empty() || s.back() != '_') return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

namespace {

enum class Output { config_and_report, table };

// The report in the wire's spelling: requested fields as the request's contract names them,
// results as the emitted one does (the clamp reports in the model's, the directional, pointers).
void spell_report(ClampReport& report, const std::string& request_text, const Contract& emitted) {
    const Contract* asked = &emitted;
    try {
        auto doc = boost::json::parse(request_text);
        if (auto* c = find_contract(std::string(doc.at("version").as_string()))) asked = c;
    } catch (...) {  // already validated; keep the emitted contract's spelling
    }
    for (ClampDecision& d : report.decisions) {
        d.field = wire_pointer(*asked, d.field);
        for (ClampResultItem& item : d.result) item.field = wire_pointer(emitted, item.field);
    }
}

void print_table(const ClampReport& report, std::string_view ceiling_name, std::string_view backend, std::string_view sdk) {
    struct Line { std::string field, requested, verdict, result, why; };
    std::vector<Line> lines{{"FIELD", "REQUESTED", "VERDICT", "RESULT", "WHY"}};
    for (const auto& d : report.decisions) {
        std::string result;
        for (const auto& item : d.result) result += (result.empty() ? "" : "; ") + item.field + " = " + item.value;
        lines.push_back({d.field, d.requested, std::string(to_string(d.verdict)), result.empty() ? "-" : result,
                         d.reason.empty() ? "-" : d.reason});
    }
    std::size_t w[4] = {0, 0, 0, 0};
    for (const auto& l : lines) {
        w[0] = std::max(w[0], std::min<std::size_t>(l.field.size(), 40));
        w[1] = std::max(w[1], std::min<std::size_t>(l.requested.size(), 40));
        w[2] = std::max(w[2], l.verdict.size());
        w[3] = std::max(w[3], std::min<std::size_t>(l.result.size(), 60));
    }
    auto pad = [](const std::string& s, std::size_t width) {
        return s.size() >= width ? s + "  " : s + std::string(width - s.size() + 2, ' ');
    };
    std::cout << "ceiling: " << ceiling_name << "   backend: " << backend << " (executor SDK " << sdk << ")\n\n";
    for (const auto& l : lines)
        std::cout << pad(l.field, w[0]) << pad(l.requested, w[1]) << pad(l.verdict, w[2]) << pad(l.result, w[3])
                  << l.why << "\n";
    std::cout << "\n" << report.count(Verdict::kept) << " kept, " << report.count(Verdict::narrowed) << " narrowed, "
              << report.count(Verdict::downgraded) << " downgraded, " << report.count(Verdict::dropped)
              << " dropped\n";
}

int clamp_command(std::string_view command, const Args& args, Output output) {
    std::optional<std::string> ceiling_file, env_prefix, report_file, executor_dir, request_file, contract_name;
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
            std::cout << (output == Output::table ? explain_help : clamp_help);
            return 0;
        } else if (a == "--ceiling") {
            if (!value(ceiling_file)) return usage_error(command, "--ceiling needs a FILE");
        } else if (a == "--ceiling-env") {
            env_prefix = "CORDON_";
            if (i + 2 < args.size() && is_prefix_word(args[i + 1])) env_prefix = std::string(args[++i]);
        } else if (a.rfind("--ceiling-env=", 0) == 0) {
            env_prefix = std::string(a.substr(14));
        } else if (a == "--backend") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error(command, "--backend needs a NAME");
            backend_name = *v;
        } else if (a == "--sdk") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error(command, "--sdk needs a VERSION");
            sdk = *v;
        } else if (a == "--contract") {
            if (!value(contract_name)) return usage_error(command, "--contract needs a VERSION");
        } else if (a == "--style") {
            std::optional<std::string> v;
            if (!value(v)) return usage_error(command, "--style needs posix or windows");
            if (*v == "posix") style = PathStyle::posix;
            else if (*v == "windows") style = PathStyle::windows;
            else return usage_error(command, "--style must be posix or windows, not '" + *v + "'");
        } else if (a == "--no-canonical") {
            canonicalize = false;
        } else if (a == "--report") {
            if (!value(report_file)) return usage_error(command, "--report needs a FILE");
        } else if (a == "--executor-dir") {
            if (!value(executor_dir)) return usage_error(command, "--executor-dir needs a DIR");
        } else if (a.size() > 1 && a[0] == '-') {
            return usage_error(command, "unknown option '" + std::string(a) + "'");
        } else if (request_file) {
            return usage_error(command, "expected one REQUEST file, got '" + *request_file + "' and '" + std::string(a) + "'");
        } else {
            request_file = std::string(a);
        }
    }
    if (!request_file) return usage_error(command, "expected a REQUEST file (or - for standard input)");
    auto backend = backend_from_string(backend_name);
    if (!backend || *backend == Backend::session)
        return usage_error(command, "unknown backend '" + backend_name + "'; expected bubblewrap, processcontainer or seatbelt");
    const Contract* contract = contract_name ? find_contract(*contract_name) : nullptr;
    if (contract_name && (!contract || !contract->emitted || !sdk_accepts_contract(sdk, *contract_name)))
        return usage_error(command, "--contract " + *contract_name + ": not a contract cordon emits for SDK " + sdk);
    auto caps = contract ? capabilities_for(*backend, sdk, contract->version) : capabilities_for(*backend, sdk);
    if (!caps) return usage_error(command, "no capability data for " + backend_name + " with SDK " + sdk);
    if (canonicalize && style != host_path_style())
        return usage_error(command, "--style " + std::string(to_string(style)) +
                                        " cannot be canonicalised on this host; add --no-canonical");

    CeilingOptions ceiling_options{style, canonicalize};
    auto ceiling = load_operator_ceiling({ceiling_file, env_prefix, false}, ceiling_options);
    if (!ceiling) return fail(command, ceiling.error(), exit_usage);
    auto text = read_input(*request_file);
    if (!text) return fail(command, text.error(), exit_usage);
    auto request = from_mxc_json(*text);
    if (!request) {
        Error e = request.error();
        e.where = (*request_file == "-" ? std::string("<stdin>") : *request_file) + ": " + e.where;
        return fail(command, e, exit_usage);
    }
    auto out = clamp(*request, *ceiling, *caps, ClampOptions{style, canonicalize, executor_dir, {}, {}});
    if (!out) return fail(command, out.error(), out.error().code == ErrorCode::backend_unsupported ? 1 : exit_usage);
    if (!contract) {
        auto chosen = choose_contract(out->policy, sdk);
        if (!chosen) return fail(command, chosen.error(), 1);
        contract = *chosen;
    }
    auto json = to_mxc_json(out->policy, *contract);
    if (!json) return fail(command, json.error(), 1);
    spell_report(out->report, *text, *contract);

    if (output == Output::table) {
        print_table(out->report, ceiling_file ? *ceiling_file : "environment " + *env_prefix + "*", backend_name, sdk);
        return 0;
    }
    std::string report = out->report.to_json() + "\n";
    if (report_file) {
        if (Status s = detail::write_file_replacing(*report_file, report); !s) return fail(command, s.error(), exit_usage);
    } else {
        std::cerr << report;
    }
    std::cout << *json << "\n";
    return 0;
}

}  // namespace

int run_clamp(const Args& args) { return clamp_command("clamp", args, Output::config_and_report); }

int run_explain(const Args& args) { return clamp_command("explain", args, Output::table); }

}  // namespace cordon::cli
