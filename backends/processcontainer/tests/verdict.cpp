// SPDX-License-Identifier: MIT
// cordon's verdict on MXC config files, for wxc_conformance.sh: prints "valid FILE" or
// "invalid FILE: <first violation>" per file; exit 0 when every file is valid, 1 otherwise.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cordon/mxc_json.hpp"

int main(int argc, char** argv) {
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        auto violations = in ? cordon::validate(text.str()) : cordon::Violations{{"", "cannot read the file"}};
        if (violations.empty()) {
            std::cout << "valid " << argv[i] << "\n";
        } else {
            std::cout << "invalid " << argv[i] << ": " << cordon::to_error(violations).to_string() << "\n";
            rc = 1;
        }
    }
    return rc;
}
