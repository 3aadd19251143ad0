// SPDX-License-Identifier: MIT
// cordon's verdict on MXC config files, for wxc_conformance.sh: prints "valid FILE" or
// "invalid FILE: <first violation>" per file; exit 0 when every file is valid, 1 otherwise.
//   cordon-verdict [--sdk VERSION] FILE...   (--sdk: as strictly as that SDK's executor)
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cordon/mxc_json.hpp"

int main(int argc, char** argv) {
    int rc = 0;
    cordon::CheckOptions options;
    int first = 1;
    if (argc > 2 && std::string(argv[1]) == "--sdk") options.sdk_version = argv[2], first = 3;
    for (int i = first; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        auto violations = in ? cordon::validate(text.str(), options) : cordon::Violations{{"", "cannot read the file"}};
        if (violations.empty()) {
            std::cout << "valid " << argv[i] << "\n";
        } else {
            std::cout << "invalid " << argv[i] << ": " << cordon::to_error(violations).to_string() << "\n";
            rc = 1;
        }
    }
    return rc;
}
