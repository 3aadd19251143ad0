// SPDX-License-Identifier: MIT
// cordon-bench: measures cordon's operations; never run as a test (numbers go into issue notes).
#include <exception>
#include <iostream>

#include "benchmarks.hpp"

int main(int argc, char** argv) {
    try {
        cordon::bench::Args args(argv + 1, argv + argc);
        if (args.empty() || args[0] == "--help") {
            std::cout << "Usage: cordon-bench BENCHMARK [ARGS...]\n\nBenchmarks:\n";
            for (const auto& b : cordon::bench::benchmarks) std::cout << "  " << b.usage << "\n";
            return args.empty() ? 2 : 0;
        }
        for (const auto& b : cordon::bench::benchmarks)
            if (b.name == args[0]) return b.run(cordon::bench::Args(args.begin() + 1, args.end()));
        std::cerr << "cordon-bench: unknown benchmark '" << args[0] << "'\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "cordon-bench: " << e.what() << "\n";
        return 1;
    }
}
