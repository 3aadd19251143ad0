// SPDX-License-Identifier: MIT
// cordon: the host's own addresses, which a sandbox leaving through the host reaches host services on.
#pragma once

#include <vector>

#include "cordon/cidr.hpp"
#include "cordon/config.hpp"

namespace cordon::detail {

/// Every address of this host's interfaces (as /32 and /128, as getifaddrs lists them in the network
/// namespace cordon runs in, which is the one slirp4netns and NAT leave from), plus the blocks that
/// always mean this host: 0.0.0.0/32, 127.0.0.0/8, ::/128 and ::1/128. Sorted, each once. Windows:
/// only the fixed blocks (no backend there enforces egress rules).
CORDON_FUNC std::vector<Cidr> host_addresses();

}  // namespace cordon::detail

#if CORDON_HEADER_ONLY
#include "cordon/impl/host_addresses.hpp"
#endif
