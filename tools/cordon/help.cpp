// SPDX-License-Identifier: MIT
// cordon CLI: --help rendered from each command's description and its declared options.
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "help.hpp"
#include "options.hpp"

namespace cordon::cli {

void define_options(Command& command, CLI::App& app, bool& json, bool& help) {
    app.set_help_flag();  // cordon prints its own help (help_text), before parsing
    command.define(app);
    opt::group(app, "Common");
    opt::flag(app, "--json", json, "print the result as one JSON object on stdout; errors too, with the same exit status");
    opt::flag(app, "-h,--help", help, "show this help and exit");
}

namespace {

// "block|allow" as {"block", "allow"}: opt::choice spells its choices so.
std::vector<std::string> split_choices(const std::string& type) {
    std::vector<std::string> out;
    std::istringstream words(type);
    for (std::string w; std::getline(words, w, '|');) out.push_back(w);
    return out;
}

}  // namespace

std::vector<OptionGroup> option_groups(Command& command) {
    CLI::App app;
    bool json = false, help = false;
    define_options(command, app, json, help);
    std::vector<OptionGroup> groups;
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_positional() && o->get_lnames().empty() && o->get_snames().empty()) continue;  // operands
        OptionDoc d;
        for (const auto& s : o->get_snames()) d.names.push_back("-" + s);
        for (const auto& l : o->get_lnames()) d.names.push_back("--" + l);
        d.value = o->get_type_name();
        if (opt::has_check(*o, opt::choice_check)) d.choices = split_choices(d.value);
        d.help = o->get_description();
        if (groups.empty() || groups.back().heading != o->get_group()) groups.push_back({o->get_group(), {}});
        groups.back().options.push_back(std::move(d));
    }
    return groups;
}

std::string OptionDoc::label() const {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return value.empty() ? s : s + " " + value;
}

std::vector<std::string> wrap(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::istringstream paragraphs(text);
    for (std::string paragraph; std::getline(paragraphs, paragraph);) {  // '\n' forces a break
        std::istringstream words(paragraph);
        std::string line;
        for (std::string w; words >> w;) {
            if (!line.empty() && line.size() + 1 + w.size() > width) {
                lines.push_back(line);
                line.clear();
            }
            line += (line.empty() ? "" : " ") + w;
        }
        lines.push_back(line);
    }
    return lines;
}

std::string help_text(Command& command) {
    constexpr std::size_t label_width = 26, width = 96;
    const CommandDoc& doc = command.doc();
    std::ostringstream out;
    out << "Usage: cordon " << doc.name << " " << doc.synopsis << "\n\n" << doc.description << "\n";
    for (const auto& g : option_groups(command)) {
        out << "\n" << g.heading << ":\n";
        for (const auto& o : g.options) {
            std::string label = "  " + o.label();
            auto lines = wrap(o.help, width - label_width);
            if (label.size() + 2 > label_width) {
                out << label << "\n";
                label.clear();
            }
            for (const auto& l : lines) {
                out << label << std::string(label_width - label.size(), ' ') << l << "\n";
                label.clear();
            }
        }
    }
    out << "\nExit status: " << doc.exit_status << "\n";
    if (!doc.example.empty()) {
        out << "\nExample:\n";
        std::istringstream lines{std::string(doc.example)};
        for (std::string l; std::getline(lines, l);) out << "  " << l << "\n";
    }
    return out.str();
}

}  // namespace cordon::cli
