// BodyBudget: capacity, dropping the longest-stalled body still arriving, never a busy one.
#include <gtest/gtest.h>

#include <vector>

#include "http/body_budget.h"

namespace sbx::http {
namespace {

using namespace std::chrono_literals;
using Clock = BodyBudget::Clock;

class BodyBudgetTest : public ::testing::Test {
   protected:
    BodyBudget budget{100, 2s};
    Clock::time_point t0 = Clock::now();
    std::vector<BodyBudget::Id> dropped;

    BodyBudget::Charge charge(BodyBudget::Id id, std::uint64_t bytes, Clock::duration at) {
        return budget.charge(
            id, bytes, [this, id] { dropped.push_back(id); }, t0 + at);
    }
};

TEST_F(BodyBudgetTest, ChargesUpToTheCapacityAndReleases) {
    EXPECT_TRUE(charge(1, 60, 0s).granted);
    EXPECT_TRUE(charge(2, 40, 0s).granted);
    EXPECT_EQ(budget.used(), 100U);
    auto refused = charge(3, 1, 0s);
    EXPECT_FALSE(refused.granted);
    EXPECT_EQ(refused.dropped, 0U);  // nobody stalled yet
    budget.release(1);
    EXPECT_EQ(budget.used(), 40U);
    EXPECT_TRUE(charge(3, 60, 0s).granted);
    budget.release(3);
    budget.release(3);  // twice: no-op
    budget.release(99);
    EXPECT_EQ(budget.used(), 40U);
    EXPECT_TRUE(dropped.empty());
}

TEST_F(BodyBudgetTest, DropsTheLongestStalledBodyFirstForRoom) {
    ASSERT_TRUE(charge(1, 40, 0s).granted);
    ASSERT_TRUE(charge(2, 40, 0s).granted);
    budget.progress(1, t0 + 1s);  // 2 has stalled longer
    auto c = charge(3, 40, 3s + 1ms);
    EXPECT_TRUE(c.granted);
    EXPECT_EQ(c.dropped, 1U);
    EXPECT_EQ(dropped, std::vector<BodyBudget::Id>{2});
    EXPECT_EQ(budget.used(), 80U);
    budget.release(2);  // the dropped session ends later: nothing more is returned
    EXPECT_EQ(budget.used(), 80U);
}

TEST_F(BodyBudgetTest, DropsSeveralWhenOneIsNotEnough) {
    ASSERT_TRUE(charge(1, 30, 0s).granted);
    ASSERT_TRUE(charge(2, 30, 0s).granted);
    ASSERT_TRUE(charge(3, 30, 1s).granted);
    auto c = charge(4, 70, 4s);
    EXPECT_TRUE(c.granted);
    EXPECT_EQ(c.dropped, 2U);
    EXPECT_EQ(dropped, (std::vector<BodyBudget::Id>{1, 2}));
}

TEST_F(BodyBudgetTest, ABodyMakingProgressIsNotDropped) {
    ASSERT_TRUE(charge(1, 100, 0s).granted);
    budget.progress(1, t0 + 3s);
    auto c = charge(2, 10, 4s);  // 1 got bytes 1 s ago: not stalled
    EXPECT_FALSE(c.granted);
    EXPECT_TRUE(dropped.empty());
}

TEST_F(BodyBudgetTest, ACompleteBodyKeepsItsChargeAndIsNeverDropped) {
    ASSERT_TRUE(charge(1, 100, 0s).granted);
    budget.received(1);  // being handled: waiting for a run slot, say
    auto c = charge(2, 10, 60s);
    EXPECT_FALSE(c.granted);
    EXPECT_TRUE(dropped.empty());
    budget.release(1);
    EXPECT_TRUE(charge(2, 10, 60s).granted);
}

TEST_F(BodyBudgetTest, ARefusedChargeStillDropsWhatIsStalled) {
    ASSERT_TRUE(charge(1, 50, 0s).granted);
    ASSERT_TRUE(charge(2, 50, 0s).granted);
    budget.received(2);
    auto c = charge(3, 80, 5s);  // dropping 1 frees 50: not enough, 2 is busy
    EXPECT_FALSE(c.granted);
    EXPECT_EQ(c.dropped, 1U);
    EXPECT_EQ(budget.used(), 50U);
}

TEST_F(BodyBudgetTest, AChunkedBodyGrowsItsOwnCharge) {
    ASSERT_TRUE(charge(1, 10, 0s).granted);
    budget.progress(1, t0 + 5s);
    EXPECT_TRUE(charge(1, 10, 5s).granted);  // the same body, one more step
    EXPECT_EQ(budget.used(), 20U);
    budget.release(1);
    EXPECT_EQ(budget.used(), 0U);
}

}  // namespace
}  // namespace sbx::http
