// SPDX-License-Identifier: MIT
// doctest's main for the processcontainer backend's test programs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
