// SPDX-License-Identifier: MIT
// cordon CLI: the man page and the bash and zsh completions, rendered from the same command docs
// and option declarations as --help (meson installs what `cordon --man` and `cordon completion`
// print), and the `cordon completion` command.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ceiling_source.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "cordon/config.hpp"
#include "help.hpp"
#include "manual.hpp"
#include "options.hpp"

namespace cordon::cli {

namespace {

// Text for roff: backslashes and hyphens escaped, a line never starting with a control character.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
        line_start = c == '\n';
    }
    return out;
}

void man_command(std::ostream& out, Command& c) {
    const CommandDoc& d = c.doc();
    out << ".SS \"cordon " << d.name << "\"\n.B cordon " << d.name << "\n" << roff(d.synopsis) << "\n.PP\n"
        << roff(d.description) << "\n";
    for (const auto& g : option_groups(c)) {
        out << ".PP\n" << roff(g.heading) << ":\n";
        for (const auto& o : g.options) out << ".TP\n.B " << roff(o.label()) << "\n" << roff(o.help) << "\n";
    }
    out << ".PP\nExit status: " << roff(d.exit_status) << "\n";
    if (!d.example.empty()) out << ".PP\nExample:\n.PP\n.RS\n.nf\n" << roff(d.example) << "\n.fi\n.RE\n";
}

// What completes an option's value: its choices, files, directories, or nothing (free text such
// as a CIDR); a flag and an optional value take no word of their own.
enum class ValueKind { flag, optional, text, choices, file, dir };

ValueKind kind_of(const OptionDoc& o) {
    if (o.value.empty()) return ValueKind::flag;
    if (o.value.front() == '[') return ValueKind::optional;
    if (!o.choices.empty()) return ValueKind::choices;
    if (o.value == "DIR") return ValueKind::dir;
    if (o.value == "FILE" || o.value == "PATH") return ValueKind::file;
    return ValueKind::text;
}

std::string choices_of(const OptionDoc& o) {
    std::string s;
    for (const auto& c : o.choices) s += (s.empty() ? "" : " ") + c;
    return s;
}

std::vector<std::unique_ptr<Command>> all_commands() {
    std::vector<std::unique_ptr<Command>> out;
    for (const auto& e : commands) out.push_back(e.make());
    return out;
}

void bash_command_case(std::ostream& out, Command& c) {
    std::string opts, values;
    for (const auto& g : option_groups(c))
        for (const auto& o : g.options) {
            for (const auto& n : o.names) opts += (opts.empty() ? "" : " ") + n;
            const ValueKind k = kind_of(o);
            if (k == ValueKind::flag || k == ValueKind::optional) continue;
            for (const auto& n : o.names) {
                values += "        " + n + ") ";
                values += k == ValueKind::choices ? "COMPREPLY=($(compgen -W '" + choices_of(o) + "' -- \"$cur\"))"
                          : k == ValueKind::dir   ? "COMPREPLY=($(compgen -d -- \"$cur\"))"
                          : k == ValueKind::file  ? "COMPREPLY=($(compgen -f -- \"$cur\"))"
                                                  : "COMPREPLY=()";  // free text: no words to offer
                values += "; return ;;\n";
            }
        }
    out << "    " << c.doc().name << ")\n      opts='" << opts << "'\n      case \"$prev\" in\n" << values
        << "      esac ;;\n";
}

// A zsh _arguments description: no unbalanced brackets, colons or quotes.
std::string zsh_text(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') c = ' ';
        if (c == '[' || c == ']') out += '\\';
        if (c == '\'') out += "'\\''";
        else if (c == ':') out += "\\:";
        else out += c;
    }
    return out.size() > 70 ? out.substr(0, out.rfind(' ', 70)) + "..." : out;
}

void zsh_command_case(std::ostream& out, Command& c) {
    out << "    " << c.doc().name << ")\n      _arguments -S";
    for (const auto& g : option_groups(c))
        for (const auto& o : g.options) {
            const ValueKind k = kind_of(o);
            const bool repeatable = o.help.find("repeatable") != std::string::npos;
            for (const auto& n : o.names) {
                out << " \\\n        '" << (repeatable ? "*" : "") << n;
                const std::string desc = zsh_text(o.help.substr(0, o.help.find('\n')));
                if (k == ValueKind::flag || k == ValueKind::optional) {
                    out << "[" << desc << "]'";
                    continue;
                }
                out << "=[" << desc << "]:" << zsh_text(o.value) << ":"
                    << (k == ValueKind::choices ? "(" + choices_of(o) + ")"
                        : k == ValueKind::dir   ? "_directories"
                        : k == ValueKind::file  ? "_files"
                                                : " ")
                    << "'";
            }
        }
    out << " \\\n        " << (c.takes_argv() ? "'*:: :_normal'" : "'*:file:_files'") << " ;;\n";
}

}  // namespace

std::string man_page() {
    std::ostringstream out;
    out << ".\\\" generated by `cordon --man` from the same text as --help; do not edit\n"
        << ".TH CORDON 1 \"\" \"cordon " << CORDON_VERSION_STRING << "\" \"User Commands\"\n"
        << ".SH NAME\ncordon \\- sandbox policy engine for Microsoft MXC executors\n"
        << ".SH SYNOPSIS\n.B cordon\n.I COMMAND\n[OPTIONS] [ARGS...]\n.br\n.B cordon\n\\-\\-version | \\-\\-help | \\-\\-man\n"
        << ".SH DESCRIPTION\n"
        << roff("An operator sets a ceiling (what may ever be granted) and a request can only narrow it. cordon "
                "checks and clamps MXC executor configs and runs commands inside the containment of the "
                "verified MXC executor (lxc-exec with bubblewrap on Linux). Every command takes --help "
                "and --json.")
        << "\n.SH COMMANDS\n";
    for (auto& c : all_commands()) man_command(out, *c);
    out << ".SH FILES\n.TP\n.I " << roff(system_ceiling_path) << "\n"
        << roff("The system ceiling: used when no other ceiling is given, and only when it is owned by root and "
                "writable by nobody else, in directories of the same kind. Every report names the ceiling in use.")
        << "\n.TP\n.I " << roff(preset_dir) << "\n"
        << roff("Preset ceilings for common jobs (a Python project, a Node project, read-only git, a build with "
                "a cache directory): upper bounds to copy and edit, not grants.")
        << "\n.TP\n.I ~/.cache/cordon/mxc\n" << roff("cordon's executor cache, filled by cordon setup.") << "\n"
        << ".SH ENVIRONMENT\n.TP\n.B " << roff(ceiling_env_names()) << "\n"
        << roff("An environment ceiling (cordon run, cordon mcp; cordon clamp with --ceiling-env).") << "\n"
        << ".TP\n.B MXC_BIN_DIR\n" << roff("Where to look for the executor first.") << "\n"
        << ".TP\n.B CORDON_MXC_CACHE\n" << roff("cordon's executor cache, instead of ~/.cache/cordon/mxc.") << "\n"
        << ".SH EXIT STATUS\n" << roff("Each command's section says. A usage error exits 2, except for cordon run, "
                                       "which exits 125; 70 is an internal error.")
        << "\n.SH SEE ALSO\n.BR bwrap (1)\n";
    return out.str();
}

std::string bash_completion() {
    std::ostringstream out;
    std::string names;
    for (const auto& e : commands) names += (names.empty() ? "" : " ") + std::string(e.name);
    out << "# bash completion for cordon; generated by `cordon completion bash`\n"
        << "_cordon() {\n  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i opts\n"
        << "  COMPREPLY=()\n"
        << "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
        << "    COMPREPLY=($(compgen -W '" << names << " --help --version --man' -- \"$cur\")); return\n  fi\n"
        << "  for ((i = 2; i < COMP_CWORD; i++)); do  # cordon run ... -- ARGV: a command and its arguments\n"
        << "    if [ \"${COMP_WORDS[i]}\" = -- ]; then\n"
        << "      if [ $((i + 1)) -eq \"$COMP_CWORD\" ]; then COMPREPLY=($(compgen -c -- \"$cur\"));\n"
        << "      else COMPREPLY=($(compgen -f -- \"$cur\")); fi; return\n    fi\n  done\n"
        << "  case \"${COMP_WORDS[1]}\" in\n";
    for (auto& c : all_commands()) bash_command_case(out, *c);
    out << "    *) return ;;\n  esac\n"
        << "  case \"$cur\" in\n    -*) COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")) ;;\n"
        << "    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n  esac\n}\ncomplete -F _cordon cordon\n";
    return out.str();
}

std::string zsh_completion() {
    std::ostringstream out;
    out << "#compdef cordon\n# zsh completion for cordon; generated by `cordon completion zsh`\n"
        << "_cordon() {\n  local -a cmds\n  cmds=(\n";
    auto all = all_commands();
    for (auto& c : all) out << "    '" << c->doc().name << ":" << zsh_text(std::string(c->doc().summary)) << "'\n";
    out << "  )\n  if (( CURRENT == 2 )); then\n    _describe -t commands 'cordon command' cmds\n    return\n  fi\n"
        << "  local cmd=$words[2]\n  shift words\n  (( CURRENT-- ))\n  case $cmd in\n";
    for (auto& c : all) zsh_command_case(out, *c);
    out << "  esac\n}\n_cordon \"$@\"\n";
    return out.str();
}

namespace {

const CommandDoc completion_doc{
    "completion",
    "print the bash or zsh completion script",
    "bash|zsh",
    "Prints the completion script for the shell (rendered from the same option declarations as\n"
    "--help). meson install puts both where bash-completion and zsh find them.",
    "0, 2 usage error.",
    "cordon completion bash > cordon.bash && . ./cordon.bash && complete -p cordon",
};

class Completion final : public Command {
public:
    const CommandDoc& doc() const override { return completion_doc; }
    void define(CLI::App& app) override { opt::operand(app, "SHELL", shell_, "bash or zsh")->required(); }
    int run(Output& out) override {
        if (*shell_ != "bash" && *shell_ != "zsh")
            return out.usage("expected bash or zsh, not '" + *shell_ + "'", exit_usage);
        const std::string script = *shell_ == "bash" ? bash_completion() : zsh_completion();
        if (out.json()) return out.result({{"shell", *shell_}, {"script", script}}, 0);
        std::cout << script;
        return 0;
    }

private:
    std::optional<std::string> shell_;
};

}  // namespace

std::unique_ptr<Command> make_completion() { return std::make_unique<Completion>(); }

}  // namespace cordon::cli
