// MAX_CONNECTIONS admission: the longest waiter for a request head makes room; busy ones never.
#include <gtest/gtest.h>

#include <vector>

#include "http/connection_table.h"

namespace sbx::http {
namespace {

using Admit = ConnectionTable::Admit;

class Table : public ::testing::Test {
   protected:
    ConnectionTable table{3};
    std::vector<int> evicted;

    ConnectionTable::Admission open(int name) {
        return table.open([this, name] { evicted.push_back(name); });
    }
};

TEST_F(Table, AdmitsUpToCapacity) {
    EXPECT_EQ(open(1).result, Admit::admitted);
    EXPECT_EQ(open(2).result, Admit::admitted);
    EXPECT_EQ(open(3).result, Admit::admitted);
    EXPECT_EQ(table.size(), 3u);
    EXPECT_TRUE(evicted.empty());
}

TEST_F(Table, FullEvictsTheLongestWaitingForAHead) {
    auto a = open(1);
    auto b = open(2);
    auto c = open(3);
    table.set_waiting(a.id, false);  // 1 has sent its head: busy
    auto d = open(4);
    EXPECT_EQ(d.result, Admit::admitted_by_eviction);
    EXPECT_EQ(evicted, std::vector<int>{2});
    EXPECT_EQ(table.size(), 3u);
    table.set_waiting(b.id, true);  // the evicted one is gone: no effect
    table.close(b.id);
    EXPECT_EQ(table.size(), 3u);
    // 3 waited longer than 4; 1 is busy.
    EXPECT_EQ(open(5).result, Admit::admitted_by_eviction);
    EXPECT_EQ(evicted, (std::vector<int>{2, 3}));
    (void)c;
}

TEST_F(Table, WaitingAgainMakesAConnectionTheNewestWaiter) {
    auto a = open(1);
    open(2);
    open(3);
    table.set_waiting(a.id, false);
    table.set_waiting(a.id, true);  // idle keep-alive after a request: newest waiter
    open(4);
    EXPECT_EQ(evicted, std::vector<int>{2});
}

TEST_F(Table, AllBusyRefusesTheNewOne) {
    for (int i = 1; i <= 3; ++i) table.set_waiting(open(i).id, false);
    auto refused = open(9);
    EXPECT_EQ(refused.result, Admit::refused);
    EXPECT_TRUE(evicted.empty());
    EXPECT_EQ(table.size(), 3u);
}

TEST_F(Table, CloseFreesAPlace) {
    auto a = open(1);
    open(2);
    open(3);
    table.close(a.id);
    table.close(a.id);  // twice is harmless
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(open(4).result, Admit::admitted);
    EXPECT_TRUE(evicted.empty());
}

}  // namespace
}  // namespace sbx::http
