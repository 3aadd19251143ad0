// SPDX-License-Identifier: MIT
// cordon-bench pipeline: parse a request, clamp it (canonicalising for real), emit and validate the result.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "benchmarks.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::bench {

namespace {
constexpr const char* pipeline_usage = "usage: cordon-bench pipeline --ceiling FILE --request FILE [--iterations N]\n";

// One pass of what `cordon clamp` does per request once the ceiling is loaded. Returns the output
// size so the work cannot be optimised away, or -1 on failure.
long long one_pass(const std::string& request_text, const Ceiling& ceiling, const Capabilities& caps) {
    auto request = from_mxc_json(request_text);  // strict parse + schema
    if (!request) {
        std::cerr << "request: " << request.error().to_string() << "\n";
        return -1;
    }
    auto out = clamp(*request, ceiling, caps, ClampOptions::of(host_path_style(), true));
    if (!out) {
        std::cerr << "clamp: " << out.error().to_string() << "\n";
        return -1;
    }
    auto json = to_mxc_json(out->policy, emit_contract(out->policy));  // emit + decoder + schema
    if (!json) {
        std::cerr << "emit: " << json.error().to_string() << "\n";
        return -1;
    }
    return static_cast<long long>(json->size() + out->report.to_json().size());
}
}  // namespace

int run_pipeline(const Args& args) {
    std::string ceiling_file, request_file;
    long iterations = 10000;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i + 1 >= args.size()) {
            std::cerr << pipeline_usage;
            return 2;
        }
        if (args[i] == "--ceiling") ceiling_file = std::string(args[++i]);
        else if (args[i] == "--request") request_file = std::string(args[++i]);
        else if (args[i] == "--iterations") iterations = std::stol(std::string(args[++i]));
        else {
            std::cerr << pipeline_usage;
            return 2;
        }
    }
    if (ceiling_file.empty() || request_file.empty() || iterations < 1) {
        std::cerr << pipeline_usage;
        return 2;
    }
    // The ceiling is loaded (and canonicalised) once, as an embedding program does.
    auto ceiling = load_ceiling_file(ceiling_file, CeilingOptions{host_path_style(), true});
    if (!ceiling) {
        std::cerr << "ceiling: " << ceiling.error().to_string() << "\n";
        return 1;
    }
    std::ifstream in(request_file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) {
        std::cerr << request_file << ": cannot read\n";
        return 1;
    }
    const std::string request_text = buffer.str();
    const Capabilities caps = capabilities_for(host_backend(), default_sdk_version).value();

    long long sink = one_pass(request_text, *ceiling, caps);  // warm-up: schemas compiled, caches hot
    if (sink < 0) return 1;
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
        long long n = one_pass(request_text, *ceiling, caps);
        if (n < 0) return 1;
        sink += n;
    }
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    std::cout << "{\"op\":\"pipeline\",\"iterations\":" << iterations << ",\"us_per_op\":" << us / iterations
              << "}\n";
    return sink > 0 ? 0 : 1;
}

}  // namespace cordon::bench
