// SPDX-License-Identifier: MIT
#include "cordon/timeout.hpp"

#include <doctest/doctest.h>

using cordon::Timeout;

TEST_SUITE("timeout") {
    TEST_CASE("0 is none, and none is larger than any finite timeout") {
        CHECK(Timeout::ms(0).is_none());
        CHECK(Timeout::ms(0) == Timeout::none());
        CHECK(Timeout().is_none());
        CHECK(Timeout::ms(1) < Timeout::none());
        CHECK(Timeout::ms(4294967295u) < Timeout::none());
        CHECK_FALSE(Timeout::none() < Timeout::ms(5));
        CHECK_FALSE(Timeout::none() < Timeout::none());
        CHECK(Timeout::ms(5) <= Timeout::ms(5));
    }

    TEST_CASE("stricter() never picks none over a finite limit") {
        using cordon::stricter;
        CHECK(stricter(Timeout::none(), Timeout::ms(30000)) == Timeout::ms(30000));
        CHECK(stricter(Timeout::ms(30000), Timeout::none()) == Timeout::ms(30000));
        CHECK(stricter(Timeout::ms(10), Timeout::ms(30000)) == Timeout::ms(10));
        CHECK(stricter(Timeout::none(), Timeout::none()).is_none());
        CHECK(stricter(Timeout::ms(0), Timeout::ms(30000)).wire_value() == 30000);
    }
}
