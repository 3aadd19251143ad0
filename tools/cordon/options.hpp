// SPDX-License-Identifier: MIT
// cordon CLI: the kinds of option every subcommand declares, on CLI11, so that adding one is one line.
#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace cordon::cli::opt {

/// Options declared after this call are listed under `heading` in --help and the man page.
inline void group(CLI::App& app, const std::string& heading) { app.option_defaults()->group(heading); }

/// One value (`--name VALUE` or `--name=VALUE`). Given twice it is a usage error: a wrapper that
/// appends untrusted arguments must not be able to replace an earlier value.
inline CLI::Option* single(CLI::App& app, const std::string& name, std::optional<std::string>& into,
                           const std::string& type, const std::string& help) {
    return app.add_option(name, into, help)
        ->type_name(type)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

/// A repeatable option: each occurrence takes exactly one value.
inline CLI::Option* repeated(CLI::App& app, const std::string& name, std::vector<std::string>& into,
                             const std::string& type, const std::string& help) {
    return app.add_option(name, into, help)->type_name(type)->allow_extra_args(false)->take_all();
}

/// A flag without a value: `--name=VALUE` is a usage error for every VALUE, `=true` included
/// (run_command refuses it before CLI11, whose disable_flag_override lets `=true` through).
inline CLI::Option* flag(CLI::App& app, const std::string& name, bool& into, const std::string& help) {
    return app.add_flag(name, into, help)->disable_flag_override();
}

/// Names the validator that marks an option as one of a list of choices (choice, choices): only
/// those get their values completed, not any option whose value's form happens to contain '|'.
inline constexpr const char* choice_check = "choice";

/// True when `o` was declared with the validator named `check`.
inline bool has_check(const CLI::Option& o, const std::string& check) {
    try {
        const_cast<CLI::Option&>(o).get_validator(check);  // CLI11 has no non-throwing lookup
        return true;
    } catch (const CLI::OptionNotFound&) {
        return false;
    }
}

/// "a|b|c" for --help, and the validator that accepts only those words (for choice and choices).
inline std::pair<std::string, CLI::Validator> one_of(const std::vector<std::string>& choices) {
    std::string type, listed;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        type += (i ? "|" : "") + choices[i];
        listed += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
    }
    CLI::Validator member(
        [choices, listed](std::string& s) {
            for (const auto& c : choices)
                if (s == c) return std::string();
            return "expected " + listed + ", not '" + s + "'";
        },
        "", choice_check);
    return {type, member};
}

/// One value out of `choices`; --help, the man page and the completions list them.
inline CLI::Option* choice(CLI::App& app, const std::string& name, std::optional<std::string>& into,
                           const std::vector<std::string>& choices, const std::string& help) {
    auto [type, member] = one_of(choices);
    return single(app, name, into, type, help)->check(member);
}

/// A repeatable choice: each occurrence takes one value out of `choices`.
inline CLI::Option* choices(CLI::App& app, const std::string& name, std::vector<std::string>& into,
                            const std::vector<std::string>& allowed, const std::string& help) {
    auto [type, member] = one_of(allowed);
    return repeated(app, name, into, type, help)->check(member);
}

/// A whole number from `min` to `max`, in decimal only: CLI11's own conversion would read 010 as
/// octal 8 and 0x10 as 16, which nobody typing a timeout means.
inline CLI::Option* number(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& into,
                           std::uint64_t min, std::uint64_t max, const std::string& type, const std::string& help) {
    auto parse = [min, max](const std::string& s) -> std::optional<std::uint64_t> {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n, 10);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < min || n > max) return std::nullopt;
        return n;
    };
    CLI::Validator decimal(
        [parse, min, max](std::string& s) {
            return parse(s) ? std::string()
                            : "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                                  ", not '" + s + "'";
        },
        "", "decimal");
    return app.add_option_function<std::string>(name, [&into, parse](const std::string& s) { into = parse(s); }, help)
        ->type_name(type)
        ->check(decimal)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

/// Names the validator that decides whether `--name WORD` takes WORD as its value (optional_value).
inline constexpr const char* optional_value_check = "optional-value";

/// A flag that may carry a value: `--name` (the value is `absent_value`), `--name=VALUE`, or
/// `--name VALUE` when VALUE has the value's form (`accepts`) and is not the last argument, which
/// is the command's operand (run_command joins that form before CLI11 parses). Once only.
inline CLI::Option* optional_value(CLI::App& app, const std::string& name, std::optional<std::string>& into,
                                   const std::string& absent_value, const std::string& type,
                                   std::function<std::string(const std::string&)> problem, const std::string& help) {
    CLI::Validator form([problem](std::string& s) { return problem(s); }, "", optional_value_check);
    return app.add_flag(name + "{" + absent_value + "}", into, help)
        ->type_name("[" + type + "]")
        ->check(form)
        ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

/// The command's one operand (a request file); a second one is a usage error.
inline CLI::Option* operand(CLI::App& app, const std::string& name, std::optional<std::string>& into,
                            const std::string& help) {
    return app.add_option(name, into, help)->type_name(name);
}

/// The command's operands (files), in order.
inline CLI::Option* operands(CLI::App& app, const std::string& name, std::vector<std::string>& into,
                             const std::string& help) {
    return app.add_option(name, into, help)->type_name(name);
}

}  // namespace cordon::cli::opt
