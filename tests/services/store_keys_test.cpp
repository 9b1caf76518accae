// API keys in the store, both engines: the whole life of a key, and hostile values in every field.
#include "store_fixture.h"

namespace sbx::testing {
namespace {

using store::KeyRecord;
using store::StoreErrc;

// SQL metacharacters of both engines, placeholders, quotes, comments, escapes, wildcards.
const std::string kHostile =
    "'; DROP TABLE api_keys; -- \" \\ %_ $1 ?1 :a @b /* */ \n\t\xe2\x80\x8b \xf0\x9f\x94\x91 ";

KeyRecord make_key(const std::string& id, const std::string& name) {
    KeyRecord k;
    k.id = id;
    k.name = name;
    k.key_hash = std::string("\x00\xff\x27\x5c", 4) + std::string(28, '\x22');
    k.limits.rate_per_s = 5;
    k.limits.burst = 20;
    k.limits.concurrency = 2;
    k.limits.sessions = 4;
    k.limits.cpu_seconds_per_day = 3600;
    k.created_us = k.updated_us = 1'700'000'000'000'000;
    return k;
}

class Keys : public StoreTest {};

TEST_P(Keys, CreateReadListUpdateRevoke) {
    auto alice = make_key("kalice", "alice");
    alice.limits.network = false;
    store::LimitCaps caps;
    caps.memory_mb = 256;
    caps.cpu_seconds = 1.5;
    caps.timeout_s = 10;
    alice.limits.caps = caps;
    ASSERT_TRUE(repo().create_key(alice));
    auto bob = make_key("kbob", "bob");
    bob.role = store::Role::admin;
    bob.created_us += 1;
    ASSERT_TRUE(repo().create_key(bob));

    auto got = repo().get_key("kalice").value();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->name, "alice");
    EXPECT_EQ(got->key_hash, alice.key_hash);
    EXPECT_EQ(got->limits, alice.limits);
    EXPECT_FALSE(repo().get_key("nobody").value());

    auto dup = repo().create_key(alice);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, StoreErrc::conflict);

    store::KeyUpdate u;
    u.rate_per_s = 1;
    u.network = std::optional<bool>{};           // back to the server's default
    u.caps = std::optional<store::LimitCaps>{};  // caps removed
    auto updated = repo().update_key("kalice", u, alice.created_us + 5).value();
    EXPECT_EQ(updated.limits.rate_per_s, 1);
    EXPECT_EQ(updated.limits.burst, 20u);
    EXPECT_FALSE(updated.limits.network);
    EXPECT_FALSE(updated.limits.caps);
    EXPECT_EQ(repo().get_key("kalice").value()->limits, updated.limits);

    auto revoked = repo().revoke_key("kalice", alice.created_us + 9).value();
    EXPECT_EQ(revoked.revoked_us, alice.created_us + 9);
    EXPECT_EQ(repo().revoke_key("kalice", alice.created_us + 99).value().revoked_us,
              alice.created_us + 9);  // the first time stays
    auto active = repo().list_keys(false).value();
    ASSERT_EQ(active.size(), 1u);
    EXPECT_EQ(active[0].id, "kbob");
    EXPECT_EQ(active[0].role, store::Role::admin);
    EXPECT_EQ(repo().list_keys(true).value().size(), 2u);

    EXPECT_EQ(repo().update_key("nobody", u, 1).error().code, StoreErrc::not_found);
    EXPECT_EQ(repo().revoke_key("nobody", 1).error().code, StoreErrc::not_found);
}

TEST_P(Keys, MetacharactersAndHugeValuesRoundTrip) {
    const std::string huge_name = kHostile + std::string(4 << 20, 'n') + kHostile;
    auto k = make_key(kHostile + "id", huge_name);
    k.limits.rate_per_s = 1e9;
    k.limits.burst = 4'000'000'000u;
    k.limits.cpu_seconds_per_day = 1e15;
    ASSERT_TRUE(repo().create_key(k));
    auto got = repo().get_key(kHostile + "id").value();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->name, huge_name);
    EXPECT_EQ(got->limits, k.limits);
    // The table survived, and a lookup by a hostile id that is not there finds nothing.
    EXPECT_EQ(repo().list_keys(true).value().size(), 1u);
    EXPECT_FALSE(repo().get_key("' OR '1'='1").value());
    store::KeyUpdate u;
    u.name = kHostile;
    EXPECT_EQ(repo().update_key(kHostile + "id", u, 2).value().name, kHostile);
}

TEST_P(Keys, TextThatNoEngineCanHoldIsRefusedTheSameOnBoth) {
    for (std::string bad :
         {std::string("nul\0inside", 10), std::string("bad \xff utf8"),
          std::string("overlong \xc0\xaf"), std::string("surrogate \xed\xa0\x80")}) {
        auto r = repo().create_key(make_key("k-bad", bad));
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, StoreErrc::invalid) << r.error().render();
        EXPECT_FALSE(repo().get_key(bad));  // the same refusal for a lookup
    }
    EXPECT_TRUE(repo().list_keys(true).value().empty());
}

SBX_BOTH_ENGINES(Keys);

}  // namespace
}  // namespace sbx::testing
