// SPDX-License-Identifier: MIT
// cordon CLI: parsing a subcommand's arguments with CLI11, its usage errors, and its --json output.
#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include <boost/json/serialize.hpp>
#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

boost::json::object error_object(std::string_view code, const std::string& message, const std::string& where) {
    boost::json::object e{{"code", code}, {"message", message}};
    if (!where.empty()) e["where"] = where;
    return e;
}

// `--name WORD` for an option_value flag becomes `--name=WORD` when WORD has the value's form and
// is not the last argument (CLI11 never lets a flag take the next word itself). `--name=` with
// nothing after it is refused here: CLI11 would read it as the flag alone, the default value.
std::optional<std::string> join_optional_values(CLI::App& app, Args& args) {
    for (const CLI::Option* o : app.get_options()) {
        const std::string& type = o->get_type_name();
        if (type.empty() || type.front() != '[') continue;
        auto* form = const_cast<CLI::Option*>(o)->get_validator(opt::optional_value_check);
        const auto& names = o->get_lnames();
        for (const auto& a : args)
            for (const auto& l : names)
                if (a == "--" + l + "=") {
                    std::string nothing;
                    const std::string why = (*form)(nothing);
                    return a + ": " + (why.empty() ? "an empty value is not allowed" : why);
                }
        for (std::size_t i = 0; i + 2 < args.size(); ++i) {
            if (std::none_of(names.begin(), names.end(), [&](const std::string& l) { return args[i] == "--" + l; }))
                continue;
            std::string word = args[i + 1];
            if (word.empty() || word.front() == '-' || !(*form)(word).empty()) continue;
            args[i] += "=" + args[i + 1];
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        }
    }
    return std::nullopt;
}

// `--flag=VALUE` for a flag (no value form; opt::flag): CLI11 reads `--flag=true` as the flag
// itself, which the docs promise is an error, and which would hide `--json=true` from run_command.
std::optional<std::string> flag_with_value(const CLI::App& app, const Args& args) {
    for (const auto& a : args) {
        if (a == "--") break;  // operands from here on
        for (const CLI::Option* o : app.get_options()) {
            if (o->get_positional() || !o->get_type_name().empty()) continue;
            for (const auto& l : o->get_lnames())
                if (a.rfind("--" + l + "=", 0) == 0) return "--" + l + " takes no value";
        }
    }
    return std::nullopt;
}

// CLI11's message, said the way cordon says things, naming the option.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e, const Command& command) {
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
        for (const CLI::Option* o : app.get_options())
            if (o->count() > 1 && o->get_items_expected_max() <= 1)
                return o->get_name() + " is given " + std::to_string(o->count()) +
                       " times; it takes one value, so it may appear only once (a later one would silently "
                       "replace the first)";
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
        std::string extra;
        for (const auto& a : app.remaining()) extra += (extra.empty() ? "'" : ", '") + a + "'";
        const auto rest = app.remaining();
        const bool option = !rest.empty() && rest.front().size() > 1 && rest.front().front() == '-';
        return (option ? "unknown option " : "unexpected argument ") + extra +
               (command.takes_argv() ? " (the command goes after --)" : "");
    }
    return e.what();
}

}  // namespace

int Output::fail(const Error& e, int status) {
    if (json_) {
        boost::json::object o{{"error", error_object(to_string(e.code), e.message, e.where)}};
        return result(std::move(o), status);
    }
    std::cerr << command_ << ": " << to_string(e.code) << ": " << e.to_string() << "\n";
    return status;
}

int Output::usage(const std::string& message, int status) {
    if (json_) return result({{"error", error_object("usage", message, {})}}, status);
    std::cerr << command_ << ": " << message << "\nTry '" << command_ << " --help'.\n";
    return status;
}

void Output::notice(const std::string& line) {
    if (json_) notices_.emplace_back(line);
    else std::cerr << command_ << ": " << line << "\n";
}

int Output::result(boost::json::object result, int status) {
    return this->result(std::move(result), status, [](std::ostream&) {});
}

int Output::result(boost::json::object result, int status, const std::function<void(std::ostream&)>& more) {
    if (!notices_.empty()) result["notices"] = notices_;
    result["cordon_exit"] = status;
    std::string head = boost::json::serialize(result);
    head.pop_back();  // the closing brace: `more` follows
    std::cout << head;
    more(std::cout);
    std::cout << "}\n" << std::flush;
    return status;
}

bool wants_json(const Args& args) {
    // Only cordon's own options: after `--` an argument belongs to the command (`-- jq --json`).
    return std::any_of(args.begin(), std::find(args.begin(), args.end(), "--"),
                       [](const std::string& a) { return a == "--json" || a.rfind("--json=", 0) == 0; });
}

int run_command(Command& command, const Args& all) {
    const CommandDoc& doc = command.doc();
    Args args = all;
    if (command.takes_argv()) {
        auto dashes = std::find(args.begin(), args.end(), "--");
        if (dashes != args.end()) {
            command.argv.assign(dashes + 1, args.end());
            args.erase(dashes, args.end());
        }
    }
    // Decided before parsing, so that a usage error is JSON too (`--json=...` as well, which is one).
    const bool json = wants_json(args);
    Output out("cordon " + std::string(doc.name), json);
    if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; })) {
        std::cout << help_text(command);
        return 0;
    }
    try {
        CLI::App app(std::string(doc.summary), "cordon " + std::string(doc.name));
        bool json_flag = false, help_flag = false;
        define_options(command, app, json_flag, help_flag);
        if (auto problem = flag_with_value(app, args)) return out.usage(*problem, command.usage_status());
        if (auto problem = join_optional_values(app, args)) return out.usage(*problem, command.usage_status());
        std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
        try {
            app.parse(args);
        } catch (const CLI::ParseError& e) {
            return out.usage(usage_message(app, e, command), command.usage_status());
        }
        return command.run(out);
    } catch (const std::exception& e) {
        return out.fail(make_error(ErrorCode::internal, e.what()), exit_internal);
    }
}

}  // namespace cordon::cli
