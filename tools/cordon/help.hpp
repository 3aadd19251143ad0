// SPDX-License-Identifier: MIT
// cordon CLI: a command's options as documentation: --help, the man page and the shell completions
// are all rendered from the same declarations.
#pragma once

#include <string>
#include <vector>

#include "cli.hpp"

namespace cordon::cli {

struct OptionDoc {
    std::vector<std::string> names;  ///< "-h", "--help"
    std::string value;               ///< "FILE", "block|allow", "[PREFIX]"; empty for a flag
    std::vector<std::string> choices;  ///< an opt::choice's values ("block", "allow"); empty for others
    std::string help;
    /// "-h, --help" or "--ceiling FILE".
    std::string label() const;
};

struct OptionGroup {
    std::string heading;
    std::vector<OptionDoc> options;
};

/// The command's options (not its operands) in declaration order, grouped by heading.
std::vector<OptionGroup> option_groups(Command& command);

/// `text` as lines of at most `width` characters (longer words stay whole); '\n' breaks a line.
std::vector<std::string> wrap(const std::string& text, std::size_t width);

}  // namespace cordon::cli
