// SPDX-License-Identifier: MIT
// cordon clamp: narrow an untrusted MXC request to the operator ceiling; config on stdout, report on stderr.
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "ceiling_source.hpp"
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/backend.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/output_file.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/violation.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/pins.hpp"
#include "help.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

const CommandDoc clamp_doc{
    "clamp",
    "narrow an untrusted MXC request to the operator ceiling",
    "(--ceiling FILE | --ceiling-env [PREFIX]) [OPTIONS] REQUEST.json|-",
    "Clamps an MXC request (any contract `cordon check` reads) to the operator ceiling so it\n"
    "can only narrow, and prints the clamped MXC config on stdout: in the newest contract the\n"
    "executor SDK accepts that can express it (1.0.0 for SDK 1.0.1), or in --contract. The\n"
    "report (JSON: per requested item kept, narrowed, downgraded or dropped, and why; fields\n"
    "spelled as in the request) goes to stderr, or to --report FILE. With --json both are one\n"
    "object on stdout: {\"config\":...,\"report\":...}.",
    "0 clamped, 1 refused (fail closed: the backend cannot enforce what the result needs),\n"
    "2 usage, ceiling or request error.",
    "echo '{\"readwritePaths\":[\"C:\\\\work\"],\"timeout\":30000}' > ceiling.json\n"
    "echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"dir\"},\n"
    "      \"filesystem\":{\"readwritePaths\":[\"c:\\\\WORK\\\\src\",\"C:\\\\Windows\"]}}' |\n"
    "  cordon clamp --ceiling ceiling.json --backend processcontainer --style windows \\\n"
    "    --no-canonical --report report.json -",
};

const CommandDoc explain_doc{
    "explain",
    "show, as a table, how a request was clamped and why",
    "(--ceiling FILE | --ceiling-env [PREFIX]) [OPTIONS] REQUEST.json|-",
    "Clamps the request like `cordon clamp` and prints the decisions as a table: for each\n"
    "requested item whether it was kept, narrowed, downgraded or dropped, what it became,\n"
    "and why. This is what an operator reads when an agent reports that a path was refused.",
    "0 clamped, 1 refused, 2 usage or input error.",
    "echo '{\"readonlyPaths\":[\"/usr\"],\"timeout\":30000}' > ceiling.json\n"
    "echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"make\",\"env\":[]},\n"
    "      \"filesystem\":{\"readonlyPaths\":[\"/usr/include\",\"/etc\"]}}' |\n"
    "  cordon explain --ceiling ceiling.json -",
};

// An environment-variable prefix: letters, digits and '_', ending in '_'.
std::string prefix_problem(const std::string& s) {
    bool ok = !s.empty() && s.back() == '_';
    for (char c : s)
        ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    return ok ? std::string()
              : "expected a variable prefix such as CORDON_: letters, digits and '_', and it must end in '_' (an "
                "empty one would read bare names such as NETWORK), not '" + s + "'";
}

// A request file is an MXC config, or an envelope holding one beside cordon's own fields, so that
// the config itself stays strict MXC JSON (docs/network-proxy.md, "Request files"):
//   {"mxc": {"version": "1.0.0", ...}, "cordon": {"allowedDomains": ["pypi.org"]}}
struct RequestText {
    std::string mxc;
    std::vector<std::string> domains;
    std::string at;  ///< where the config lies in the file: "" or "/mxc"
};

Result<RequestText> split_request(const std::string& text) {
    boost::json::value doc;
    Violation syntax;
    if (!detail::parse_strict_json(text, doc, syntax) || !doc.is_object() || !doc.as_object().contains("mxc"))
        return RequestText{text, {}, ""};  // an MXC config (or not JSON): from_mxc_json says what is wrong
    const boost::json::object& o = doc.as_object();
    for (const auto& kv : o)
        if (kv.key() != "mxc" && kv.key() != "cordon")
            return make_error(ErrorCode::invalid_policy, "a request envelope holds only \"mxc\" and \"cordon\"",
                              "/" + std::string(kv.key()));
    RequestText r{boost::json::serialize(o.at("mxc")), {}, "/mxc"};
    const boost::json::value* cordon = o.if_contains("cordon");
    if (!cordon) return r;
    const boost::json::value* domains = cordon->is_object() ? cordon->as_object().if_contains("allowedDomains") : nullptr;
    if (!cordon->is_object() || cordon->as_object().size() != (domains ? 1u : 0u) || (domains && !domains->is_array()))
        return make_error(ErrorCode::invalid_policy, "expected {\"allowedDomains\": [PATTERN, ...]}", "/cordon");
    for (std::size_t i = 0; domains && i < domains->as_array().size(); ++i) {
        const boost::json::value& v = domains->as_array()[i];
        if (!v.is_string())
            return make_error(ErrorCode::invalid_policy, "expected a domain pattern (a string)",
                              "/cordon/allowedDomains/" + std::to_string(i));
        r.domains.emplace_back(v.as_string().c_str());
    }
    return r;
}

}  // namespace

namespace {

enum class Form { config_and_report, table };

// explain's table: one block per decision, at most 80 columns when the values fit (a long path
// stays whole):
//   dropped     /filesystem/readwritePaths/1
//                 asked  C:\Windows
//                 why    outside every ceiling root
constexpr std::size_t table_width = 80;
constexpr std::size_t verdict_width = 12;

void print_heading(std::string_view ceiling_name, std::string_view backend, std::string_view sdk) {
    std::cout << "ceiling: " << ceiling_name << "\nbackend: " << backend << " (executor SDK " << sdk << ")\n\n";
}

void print_block(std::string_view verdict, std::string_view field, std::string_view asked,
                 const std::vector<ClampResultItem>& result, const std::string& why) {
    const std::string indent(verdict_width + 2, ' ');
    std::cout << verdict << std::string(verdict_width - std::min(verdict_width - 1, verdict.size()), ' ') << field << "\n";
    if (!asked.empty()) std::cout << indent << "asked  " << asked << "\n";
    for (const auto& item : result) std::cout << indent << "got    " << item.field << " = " << item.value << "\n";
    const auto lines = wrap(why, table_width - indent.size() - 7);
    for (std::size_t i = 0; i < lines.size() && !why.empty(); ++i)
        std::cout << indent << (i ? "       " : "why    ") << lines[i] << "\n";
}

// The report in the wire's spelling: requested fields as the request's contract names them,
// results as the emitted one does (the clamp reports in the model's, the directional, pointers).
// It speaks of fields the request set: a 1.0 request without `env` asks for the backend's default
// environment, which the model holds as inheritDefaultEnv, a field that request never named; its
// decision is reported as one on the absent `env` (still counted: the sandbox does lose PATH, TERM).
void spell_report(ClampReport& report, const std::string& request_text, const Contract& emitted) {
    const Contract* asked = &emitted;
    bool names_inherit = false;
    try {
        auto doc = boost::json::parse(request_text);
        if (auto* c = find_contract(std::string(doc.at("version").as_string()))) asked = c;
        const auto* process = doc.as_object().if_contains("process");
        names_inherit = process && process->is_object() && process->as_object().contains("inheritDefaultEnv");
    } catch (...) {  // already validated; keep the emitted contract's spelling
    }
    for (ClampDecision& d : report.decisions) {
        if (!names_inherit && d.field == "/process/inheritDefaultEnv") {
            d.field = "/process/env";
            d.requested = "absent: the backend's default environment";
        }
        d.field = wire_pointer(*asked, d.field);
        for (ClampResultItem& item : d.result) item.field = wire_pointer(emitted, item.field);
    }
}

void print_table(const ClampReport& report, std::string_view ceiling_name, std::string_view backend, std::string_view sdk) {
    print_heading(ceiling_name, backend, sdk);
    for (const auto& d : report.decisions)
        print_block(to_string(d.verdict), d.field, d.requested, d.result, d.reason);
    std::cout << "\n" << report.count(Verdict::kept) << " kept, " << report.count(Verdict::narrowed) << " narrowed, "
              << report.count(Verdict::downgraded) << " downgraded, " << report.count(Verdict::dropped)
              << " dropped\n";
}

// A refused clamp has no decisions to show; the table names what refused it and why.
void print_refusal(const Error& e, std::string_view ceiling_name, std::string_view backend, std::string_view sdk) {
    print_heading(ceiling_name, backend, sdk);
    print_block("REFUSED", e.where.empty() ? "(the request)" : e.where, "", {},
                std::string(to_string(e.code)) + ": " + e.message);
    std::cout << "\nnothing runs: the backend cannot enforce what the result would need\n";
}

class Clamp final : public Command {
public:
    explicit Clamp(Form output) : output_(output) {}
    const CommandDoc& doc() const override { return output_ == Form::table ? explain_doc : clamp_doc; }
    void define(CLI::App& app) override;
    int run(Output& out) override;

private:
    Form output_;
    std::optional<std::string> ceiling_file_, env_prefix_, report_file_, executor_dir_, request_file_, backend_,
        sdk_, style_, contract_;
    bool no_canonical_ = false;
};

void Clamp::define(CLI::App& app) {
    opt::group(app, "Ceiling (exactly one)");
    opt::single(app, "--ceiling", ceiling_file_, "FILE", "ceiling file (docs/ceiling.md); also a trust anchor: never writable");
    opt::optional_value(app, "--ceiling-env", env_prefix_, "CORDON_", "PREFIX", prefix_problem,
                        "ceiling from " + ceiling_env_names("P") + " (P defaults to CORDON_; ENTRABOT_SANDBOX_ "
                        "works too)");
    opt::group(app, "Clamping");
    opt::choice(app, "--backend", backend_, {"bubblewrap", "processcontainer", "seatbelt"},
                "whose capabilities decide fail-closed questions (default: this host's backend)");
    opt::single(app, "--sdk", sdk_, "VERSION", "executor SDK whose contracts and capability row apply (default 1.0.1)");
    opt::single(app, "--contract", contract_, "VERSION",
                "emit this contract (one the SDK accepts), e.g. 0.6.0-alpha with --sdk 0.9.0");
    opt::choice(app, "--style", style_, {"posix", "windows"},
                "path style, default this host's; windows needs --no-canonical here");
    opt::flag(app, "--no-canonical", no_canonical_, "lexical only: no symlink resolution (for testing other styles)");
    opt::single(app, "--executor-dir", executor_dir_, "DIR", "the executor's directory, a trust anchor never granted read-write");
    if (output_ == Form::config_and_report) {
        opt::group(app, "Output");
        opt::single(app, "--report", report_file_, "FILE", "write the report (JSON) to FILE instead of stderr");
    }
    opt::operand(app, "REQUEST", request_file_, "the MXC request, or - for standard input");
}

int Clamp::run(Output& out) {
    if (!request_file_) return out.usage("expected a REQUEST file (or - for standard input)", exit_usage);
    const std::string backend_name = backend_.value_or(std::string(to_string(host_backend())));
    const std::string sdk = sdk_.value_or(std::string(default_sdk_version));
    const PathStyle style = !style_ ? host_path_style() : *style_ == "windows" ? PathStyle::windows : PathStyle::posix;
    const bool canonicalize = !no_canonical_;
    const Contract* contract = contract_ ? find_contract(*contract_) : nullptr;
    if (contract_ && (!contract || !contract->emitted || !sdk_accepts_contract(sdk, *contract_)))
        return out.usage("--contract " + *contract_ + ": not a contract cordon emits for SDK " + sdk, exit_usage);
    const Backend backend = *backend_from_string(backend_name);
    auto caps = contract ? capabilities_for(backend, sdk, contract->version) : capabilities_for(backend, sdk);
    if (!caps) return out.usage("no capability data for " + backend_name + " with SDK " + sdk, exit_usage);
    if (canonicalize && style != host_path_style())
        return out.usage("--style " + std::string(to_string(style)) +
                             " cannot be canonicalised on this host; add --no-canonical",
                         exit_usage);

    CeilingOptions ceiling_options{style, canonicalize};
    auto ceiling = load_operator_ceiling({ceiling_file_, env_prefix_, false}, ceiling_options);
    if (!ceiling) return out.fail(ceiling.error(), exit_usage);
    auto file_text = read_input(*request_file_);
    if (!file_text) return out.fail(file_text.error(), exit_usage);
    auto split = split_request(*file_text);
    if (!split) {
        Error e = split.error();
        e.where = where_in(input_name(*request_file_), e.where);
        return out.fail(e, exit_usage);
    }
    const std::string* text = &split->mxc;
    auto request = from_mxc_json(*text);
    if (!request) {
        Error e = request.error();
        e.where = where_in(input_name(*request_file_), split->at + e.where);
        return out.fail(e, exit_usage);
    }
    request->allowed_domains = split->domains;  // the clamp reports each one (/network/allowedDomains/N)
    const std::string ceiling_name = ceiling->source;  // the file, the environment, or the system ceiling
    ClampOptions options = ClampOptions::of(style, canonicalize);
    options.executor_dir = executor_dir_;
    auto clamped = clamp(*request, *ceiling, *caps, options);
    if (!clamped) {
        const bool refused = clamped.error().code == ErrorCode::backend_unsupported;
        if (refused && output_ == Form::table && !out.json()) print_refusal(clamped.error(), ceiling_name, backend_name, sdk);
        return out.fail(clamped.error(), refused ? 1 : exit_usage);
    }
    if (!contract) {
        auto chosen = choose_contract(clamped->policy, sdk);
        if (!chosen) return out.fail(chosen.error(), 1);
        contract = *chosen;
    }
    auto json = to_mxc_json(clamped->policy, *contract);
    if (!json) return out.fail(json.error(), 1);
    spell_report(clamped->report, *text, *contract);

    if (output_ == Form::table) {
        if (out.json())
            return out.result({{"ceiling", ceiling_name}, {"backend", backend_name}, {"sdk", sdk},
                               {"report", boost::json::parse(clamped->report.to_json())}},
                              0);
        print_table(clamped->report, ceiling_name, backend_name, sdk);
        return 0;
    }
    std::string report = clamped->report.to_json() + "\n";
    if (report_file_) {
        if (Status s = detail::write_file_replacing(*report_file_, report); !s) return out.fail(s.error(), exit_usage);
    }
    if (out.json()) {
        boost::json::object o{{"config", boost::json::parse(*json)}, {"report", boost::json::parse(report)}};
        if (!split->domains.empty()) {  // the granted domains: no MXC contract carries them
            boost::json::array granted;
            for (const auto& d : clamped->policy.allowed_domains) granted.emplace_back(d);
            o["allowedDomains"] = std::move(granted);
        }
        return out.result(std::move(o), 0);
    }
    if (!report_file_) std::cerr << report;
    std::cout << *json << "\n";
    return 0;
}

}  // namespace

std::unique_ptr<Command> make_clamp() { return std::make_unique<Clamp>(Form::config_and_report); }

std::unique_ptr<Command> make_explain() { return std::make_unique<Clamp>(Form::table); }

}  // namespace cordon::cli
