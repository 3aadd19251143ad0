// SPDX-License-Identifier: MIT
// A downstream program: validates a config, clamps a request lexically and prints the result.
#include <iostream>

#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

int main() {
    using namespace cordon;
    if (!validate(R"({"version":"0.6.0-alpha","process":{"commandLine":"x"},"bogus":1})").size()) return 1;
    CeilingOptions lexical;
    lexical.canonicalize = false;
    auto ceiling = parse_ceiling(R"({"readwritePaths":["/srv/agent"],"timeout":1000})", lexical);
    auto request = from_mxc_json(R"({"version":"0.6.0-alpha","process":{"commandLine":"make"},
                                     "filesystem":{"readwritePaths":["/srv/agent/out","/etc"]}})");
    if (!ceiling || !request) return 2;
    ClampOptions options;
    options.canonicalize = false;
    auto clamped = clamp(*request, *ceiling, *capabilities_for(Backend::bubblewrap, "0.9.0"), options);
    if (!clamped) return 3;
    auto json = to_mxc_json(clamped->policy);
    if (!json || clamped->policy.filesystem.readwrite != std::vector<std::string>{"/srv/agent/out"}) return 4;
    std::cout << *json << "\n";
    return 0;
}
