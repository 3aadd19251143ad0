// SPDX-License-Identifier: MIT
// cordon run: the request a command line makes, what the clamp did to each item of it, and the
// caller's working directory as the default cwd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cordon/capabilities.hpp"
#include "cordon/ceiling.hpp"
#include "cordon/clamp.hpp"
#include "cordon/error.hpp"
#include "cordon/policy.hpp"

namespace cordon::cli {

/// The options of `cordon run`, as parsed.
struct RunArgs {
    std::optional<std::string> ceiling_file;
    std::vector<std::string> ro, rw, env, egress, domains;
    std::optional<std::string> network, cwd, executor, report, stdin_mode;
    std::optional<std::uint64_t> timeout, output_limit;
    bool json = false, dry_run = false, base64 = false, config_file = false, interactive = false, no_verify_cache = false;
    bool quiet = false, strict = false;
    std::vector<std::string> argv;
};

/// One item the caller asked for: the request's JSON pointer and the option that asked, as typed
/// ("--ro ./docs (/home/me/docs)", "--env NAME": never a variable's value).
struct AskedItem {
    std::string field;
    std::string option;
};

struct CliRequest {
    Policy policy;
    std::vector<AskedItem> asked;
};

/// The request from the flags. A relative --ro, --rw or --cwd is resolved against the caller's
/// working directory (lexically; the clamp then canonicalises it). Errors: invalid-policy naming
/// the option (an --env without '=', a command line the backend cannot pass).
Result<CliRequest> request_from(const RunArgs& a, Backend backend);

/// Clamps the request. Without --cwd, the caller's working directory becomes the cwd when the
/// clamped grants cover it (and the clamp keeps it); otherwise the request is clamped as it is.
Result<ClampOutcome> clamp_request(CliRequest& request, const Ceiling& ceiling, const Capabilities& capabilities,
                                   const ClampOptions& options);

/// One short line for each item the caller asked for that the clamp did not keep as asked:
/// "--ro /etc: dropped: outside every ceiling root".
std::vector<std::string> narrowing_notes(const ClampReport& report, const std::vector<AskedItem>& asked);

}  // namespace cordon::cli
