// Log throttle: one line per interval, carrying the count of the events it stands for.
#include <gtest/gtest.h>

#include "log/throttle.h"

namespace sbx::log {
namespace {

using namespace std::chrono_literals;

TEST(Throttle, OneLinePerIntervalWithTheCount) {
    Throttle throttle(1s);
    const auto t0 = Throttle::Clock::time_point{} + 100s;
    EXPECT_EQ(throttle.note(t0), 1u);  // the first event is logged at once
    EXPECT_FALSE(throttle.note(t0 + 100ms));
    EXPECT_FALSE(throttle.note(t0 + 999ms));
    EXPECT_EQ(throttle.note(t0 + 1s), 3u);  // this one and the two held back
    EXPECT_FALSE(throttle.note(t0 + 1500ms));
    EXPECT_EQ(throttle.note(t0 + 5s), 2u);
}

}  // namespace
}  // namespace sbx::log
