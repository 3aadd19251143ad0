// SPDX-License-Identifier: MIT
// cordon CLI: what every subcommand shares: its description, its options (CLI11), errors and --json.
#pragma once

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "cordon/detail/input_file.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/error.hpp"

namespace CLI {
class App;
}

namespace cordon::cli {

/// Exit code for a command-line usage error, shared by every subcommand but `cordon run`.
inline constexpr int exit_usage = 2;
/// Exit code after an internal error (EX_SOFTWARE).
inline constexpr int exit_internal = 70;

using Args = std::vector<std::string>;

/// What --help, the man page and the completions say about a command besides its options.
struct CommandDoc {
    std::string_view name;
    std::string_view summary;      ///< one line, for `cordon --help`
    std::string_view synopsis;     ///< after "cordon NAME "
    std::string_view description;  ///< paragraphs separated by blank lines
    std::string_view exit_status;  ///< one paragraph
    std::string_view example;      ///< shell lines; the docs test runs them
};

/// How a command reports: text on stdout and stderr, or (--json) one JSON object on stdout,
/// errors included, with the same exit status.
class Output {
public:
    Output(std::string command, bool json) : command_(std::move(command)), json_(json) {}

    bool json() const noexcept { return json_; }
    const std::string& command() const noexcept { return command_; }

    /// An error: {"error":{"code","message","where"},"cordon_exit":status} on stdout with --json,
    /// else "cordon COMMAND: code: where: message" on stderr. Returns `status`.
    int fail(const Error& e, int status);
    /// A usage problem, as fail with the code "usage"; the text adds the --help hint.
    int usage(const std::string& message, int status);
    /// One short line for the user (a dropped grant, a warning): on stderr as
    /// "cordon COMMAND: LINE", or collected into "notices" with --json.
    void notice(const std::string& line);
    /// Prints `result` with "cordon_exit" (and "notices") added; returns `status`.
    int result(boost::json::object result, int status);
    /// The same, and `more` writes further members (each as `,"name":value`) straight to the
    /// stream: for values too large to copy into a JSON value first (a run's output).
    int result(boost::json::object result, int status, const std::function<void(std::ostream&)>& more);

private:
    std::string command_;
    bool json_;
    boost::json::array notices_;
};

/// One subcommand: its description, its options bound to its own members, and what it does.
class Command {
public:
    virtual ~Command() = default;
    virtual const CommandDoc& doc() const = 0;
    /// Declares the options (tools/cordon/options.hpp), bound to members of the command.
    virtual void define(CLI::App& app) = 0;
    /// Runs after a successful parse.
    virtual int run(Output& out) = 0;
    /// The exit status of a usage error.
    virtual int usage_status() const { return exit_usage; }
    /// True when the command takes `-- ARGV...` (cordon run): what follows the first `--` is
    /// never parsed as options and lands in `argv`.
    virtual bool takes_argv() const { return false; }

    Args argv;
};

struct CommandEntry {
    std::string_view name;
    std::unique_ptr<Command> (*make)();
};

/// Parses `args` (after the command's name) for `command` and runs it: --help prints the help,
/// a parse error is a usage error, with --json as JSON. Never throws.
int run_command(Command& command, const Args& args);

/// True when `args` ask for JSON output: `--json` (or `--json=...`, a usage error to report as JSON).
bool wants_json(const Args& args);

/// Declares the command's options and those every command has (--json, --help) on `app`.
void define_options(Command& command, CLI::App& app, bool& json, bool& help);

/// `cordon COMMAND --help`, rendered from the command's doc and its declared options.
std::string help_text(Command& command);

/// Reads a file (a regular file, opened without blocking), or standard input for "-". Refuses
/// inputs larger than `limit` bytes.
inline Result<std::string> read_input(std::string_view path, std::size_t limit = detail::max_config_bytes) {
    if (path != "-") {
        auto file = detail::read_input_file(std::string(path), limit, detail::FileTrust::any, "file");
        if (!file) return file.error();
        return std::move(file->text);
    }
    std::string text;
    char buffer[65536];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
        if (text.size() > limit)
            return make_error(ErrorCode::invalid_policy, "input is larger than " + std::to_string(limit) + " bytes",
                              "<stdin>");
    }
    if (std::cin.bad()) return make_error(ErrorCode::io_error, "cannot read standard input", "<stdin>");
    return text;
}

/// The name an input is shown under: "<stdin>" for "-".
inline std::string input_name(std::string_view path) { return path == "-" ? "<stdin>" : std::string(path); }

/// "FILE: POINTER" for an error inside a file, without a dangling ": " when there is no pointer.
inline std::string where_in(std::string_view file, std::string_view pointer) {
    return pointer.empty() ? std::string(file) : std::string(file) + ": " + std::string(pointer);
}

}  // namespace cordon::cli
