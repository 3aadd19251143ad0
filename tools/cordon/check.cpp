// SPDX-License-Identifier: MIT
// cordon check: validate MXC config files against their contract, one line per violation.
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/path.hpp"
#include "cordon/pins.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

const CommandDoc check_doc{
    "check",
    "validate MXC config files against their contract",
    "[OPTIONS] FILE|- [FILE...]",
    "Validates MXC config files against the contract named by their \"version\" (0.6.0-alpha,\n"
    "0.7.0-alpha, 0.8.0-alpha, 0.9.0-alpha or 1.0.0: every contract a pinned executor accepts)\n"
    "with cordon's strict parser and its closed JSON Schema, as strictly as the executor.\n"
    "Development contracts (0.10.0-alpha, 1.1.0-alpha) are refused.\n"
    "Prints 'FILE: valid', or one line per violation: 'FILE: POINTER: message'. A valid file's\n"
    "paths that cordon clamp and cordon run would drop (relative ones, or a relative cwd) get a\n"
    "'FILE: warning: POINTER: message' line first; warnings do not change the exit status.",
    "0 all valid, 1 some file invalid or unreadable, 2 usage error.",
    "echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"make\"},\"filesystem\":{\"readonlyPaths\":[\"/usr/include\"]}}' > config.json\n"
    "cordon check config.json\n"
    "echo '{\"version\":\"1.0.0\",\"process\":{\"commandLine\":\"make\",\"cwd\":\"build\"}}' | cordon check -",
};

// Paths that pass the contract but that cordon clamp and cordon run drop: relative ones, and any
// other that is not an absolute path of the config's style (`~` is expanded by the clamp).
std::vector<Violation> path_warnings(std::string_view text) {
    std::vector<Violation> warnings;
    auto policy = from_mxc_json(text);
    if (!policy) return warnings;
    const Containment c = policy->effective_containment();  // `process`: the host's backend
    const PathStyle style = c == Containment::processcontainer ? PathStyle::windows
                            : c == Containment::process        ? host_path_style()
                                                               : PathStyle::posix;
    auto look = [&](const std::string& pointer, const std::string& path) {
        if (style == PathStyle::posix && !path.empty() && path.front() == '~') return;
        if (auto p = Path::parse(path, style); !p)
            warnings.push_back({pointer, "\"" + path + "\": " + p.error().message + "; cordon clamp and cordon run drop it"});
    };
    const auto& fs = policy->filesystem;
    for (const auto& [name, list] : {std::pair{"readwritePaths", &fs.readwrite}, std::pair{"readonlyPaths", &fs.readonly},
                                     std::pair{"deniedPaths", &fs.denied}})
        for (std::size_t i = 0; i < list->size(); ++i)
            look("/filesystem/" + std::string(name) + "/" + std::to_string(i), (*list)[i]);
    if (policy->process.cwd) look("/process/cwd", *policy->process.cwd);
    return warnings;
}

class Check final : public Command {
public:
    const CommandDoc& doc() const override { return check_doc; }
    void define(CLI::App& app) override {
        opt::group(app, "Options");
        opt::single(app, "--sdk", sdk_, "VERSION",
                    "only the contracts the executor of that SDK accepts (1.0.1: 0.9.0-alpha and 1.0.0; "
                    "0.9.0: 0.6.0-alpha to 0.9.0-alpha)");
        opt::single(app, "--contract", contract_, "VERSION", "only that contract");
        opt::operands(app, "FILE", files_, "an MXC config file, or - for standard input")->required();
    }
    int run(Output& out) override;

private:
    std::vector<std::string> files_;
    std::optional<std::string> sdk_, contract_;
};

int Check::run(Output& out) {
    CheckOptions options;
    if (sdk_ && !find_sdk_release(*sdk_)) return out.usage("--sdk: SDK '" + *sdk_ + "' is not pinned", exit_usage);
    if (sdk_) options.sdk_version = *sdk_;
    if (contract_ && (!(options.contract = find_contract(*contract_)) || options.contract->development))
        return out.usage("--contract: cordon reads no contract '" + *contract_ + "'", exit_usage);
    int status = 0;
    boost::json::array results;
    for (const auto& file : files_) {
        const std::string name = input_name(file);
        boost::json::object r{{"file", name}};
        auto text = read_input(file);
        if (!text) {
            status = 1;
            const Error& e = text.error();
            r.insert({{"valid", false}, {"error", {{"code", to_string(e.code)}, {"message", e.message}}}});
            if (!out.json()) std::cout << name << ": " << e.message << "\n";
            results.push_back(std::move(r));
            continue;
        }
        Violations violations = validate(*text, options);
        boost::json::array listed;
        for (const auto& v : violations) {
            listed.push_back({{"pointer", v.pointer}, {"message", v.message}});
            if (!out.json()) std::cout << name << ": " << v.to_string() << "\n";
        }
        boost::json::array warned;
        if (violations.empty())
            for (const auto& w : path_warnings(*text)) {
                warned.push_back({{"pointer", w.pointer}, {"message", w.message}});
                if (!out.json()) std::cout << name << ": warning: " << w.to_string() << "\n";
            }
        if (violations.empty() && !out.json()) std::cout << name << ": valid\n";
        if (!violations.empty()) status = 1;
        r.insert({{"valid", violations.empty()}, {"violations", std::move(listed)}, {"warnings", std::move(warned)}});
        results.push_back(std::move(r));
    }
    if (out.json()) return out.result({{"files", std::move(results)}}, status);
    return status;
}

}  // namespace

std::unique_ptr<Command> make_check() { return std::make_unique<Check>(); }

}  // namespace cordon::cli
