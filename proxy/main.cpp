// SPDX-License-Identifier: MIT
// cordon-proxy: serves one run's filtering proxy as an unprivileged process (see cordon/proxy_process.hpp).
#include "cordon/proxy_process.hpp"

int main(int argc, char** argv) { return cordon::proxy_program_main(argc, argv); }
