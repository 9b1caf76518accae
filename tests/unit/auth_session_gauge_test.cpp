// Live sessions per subject: the limit, and slots that give their place back.
#include <gtest/gtest.h>

#include "auth/identity.h"
#include "auth/session_gauge.h"

namespace sbx::auth {
namespace {

TEST(SessionGauge, LimitPerSubjectAndSlotsGiveBack) {
    SessionGauge g;
    auto a1 = g.try_open("key:a", 2);
    auto a2 = g.try_open("key:a", 2);
    ASSERT_TRUE(a1.slot.valid() && a2.slot.valid());
    EXPECT_EQ(a2.decision.values->remaining, 0u);
    auto a3 = g.try_open("key:a", 2);
    EXPECT_FALSE(a3.slot.valid());
    EXPECT_EQ(a3.decision.exceeded, LimitKind::sessions);
    EXPECT_NE(a3.decision.detail.find("2 live sessions"), std::string::npos);
    EXPECT_TRUE(g.try_open("key:b", 2).slot.valid());  // b's went back at once (temporary)
    EXPECT_EQ(g.live("key:a"), 2u);
    EXPECT_EQ(g.total(), 2u);
    a1.slot.release();
    a1.slot.release();  // twice is once
    EXPECT_EQ(g.live("key:a"), 1u);
    SessionSlot moved = std::move(a2.slot);
    EXPECT_FALSE(a2.slot.valid());
    moved = SessionSlot();
    EXPECT_EQ(g.live("key:a"), 0u);
    EXPECT_EQ(g.total(), 0u);
    auto unlimited = g.try_open("ip:1.2.3.4", 0);
    EXPECT_TRUE(unlimited.slot.valid());
    EXPECT_FALSE(unlimited.decision.values);
}

TEST(Identity, KeysAndAddresses) {
    store::KeyRecord k;
    k.id = "abc";
    k.name = "alice";
    k.limits.concurrency = 3;
    auto id = identity_of(k);
    EXPECT_EQ(id.subject, "key:abc");
    EXPECT_EQ(id.scope(), "abc");
    EXPECT_FALSE(id.is_admin());
    k.role = store::Role::admin;
    EXPECT_TRUE(identity_of(k).is_admin());
    EXPECT_FALSE(identity_of(k).scope());
    AnonLimits anon;
    anon.rate_per_s = 2;
    auto ip = anonymous_identity("10.0.0.7", anon);
    EXPECT_EQ(ip.subject, "ip:10.0.0.7");
    EXPECT_FALSE(ip.key_id);
    EXPECT_FALSE(ip.is_admin());
    EXPECT_FALSE(ip.scope());  // no keys: everyone sees everything, as without AUTH_MODE
    EXPECT_EQ(ip.limits.rate_per_s, 2);
}

}  // namespace
}  // namespace sbx::auth
