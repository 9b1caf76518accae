// Schema migrations on both engines: from empty, re-run, refusal of a newer schema, rollback of
// a failed step, replicas migrating at once.
#include <thread>

#include "store/migrations.h"
#include "store_fixture.h"

namespace sbx::testing {
namespace {

using store::Connection;
using store::Result;
using store::Tx;
using store::Value;

store::KeyRecord sample_key(std::string id) {
    store::KeyRecord k;
    k.id = std::move(id);
    k.name = "alice";
    k.key_hash = std::string(32, '\x01');
    k.created_us = k.updated_us = store::now_us();
    return k;
}

std::int64_t count_rows(store::Database& db, const std::string& sql) {
    auto r = db.get<store::QueryResult>(Tx::none, [&](Connection& c) { return c.query(sql); });
    EXPECT_TRUE(r) << (r ? "" : r.error().render());
    return r && !r->rows.empty() ? store::int_at(r->rows[0], 0) : -1;
}

class Migrations : public StoreTest {};

TEST_P(Migrations, FromEmptyReachTheNewestVersion) {
    const int newest = store::all_migrations().back().version;
    EXPECT_EQ(store_.schema_version, newest);
    EXPECT_EQ(repo().schema_version().value(), newest);
    EXPECT_EQ(count_rows(db(), "SELECT COUNT(*) FROM schema_version"), newest);
    for (const char* table : {"api_keys", "cpu_usage", "rate_buckets", "runs", "jobs"}) {
        EXPECT_EQ(count_rows(db(), std::string("SELECT COUNT(*) FROM ") + table), 0) << table;
    }
}

TEST_P(Migrations, RerunIsIdempotentAndKeepsData) {
    ASSERT_TRUE(repo().create_key(sample_key("k1")));
    for (int i = 0; i < 2; ++i) {
        auto again = location_->open();
        EXPECT_EQ(again.schema_version, store_.schema_version);
        EXPECT_TRUE(again.repository->get_key("k1").value().has_value());
    }
    EXPECT_EQ(count_rows(db(), "SELECT COUNT(*) FROM schema_version"), store_.schema_version);
}

TEST_P(Migrations, RefusesADatabaseNewerThanTheBinary) {
    ASSERT_TRUE(repo().create_key(sample_key("k1")));
    ASSERT_TRUE(db().run(Tx::write, [](Connection& c) -> Result<void> {
        STORE_TRY_VOID(
            c.query("INSERT INTO schema_version (version, description, applied_us) "
                    "VALUES (999, 'from the future', 0)"));
        return {};
    }));
    auto opened = store::open_store(location_->options());
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, store::StoreErrc::schema_too_new);
    EXPECT_NE(opened.error().message.find("999"), std::string::npos) << opened.error().message;
    // Nothing was touched.
    EXPECT_TRUE(repo().get_key("k1").value().has_value());
    EXPECT_EQ(repo().schema_version().value(), 999);
}

TEST_P(Migrations, AFailedStepRollsBackWhole) {
    std::vector<store::Migration> list(store::all_migrations().begin(),
                                       store::all_migrations().end());
    const int next = list.back().version + 1;
    const std::string kBroken =
        "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);";
    list.push_back({next, "broken on purpose", kBroken, kBroken});
    auto r = store::migrate(db(), list);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("broken on purpose"), std::string::npos);
    EXPECT_EQ(repo().schema_version().value(), next - 1);
    auto half = db().get<store::QueryResult>(
        Tx::none, [](Connection& c) { return c.query("SELECT COUNT(*) FROM half_done"); });
    EXPECT_FALSE(half) << "the step's first statement was not rolled back";
}

TEST_P(Migrations, ReplicasStartingTogetherMigrateOnce) {
    // A fresh location: both "replicas" find it empty.
    StoreLocation fresh(GetParam());
    std::vector<std::thread> replicas;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        replicas.emplace_back([&] {
            auto s = store::open_store(fresh.options(1));
            if (s) {
                ++ok;
            } else {
                ADD_FAILURE() << s.error().render();
            }
        });
    }
    for (auto& t : replicas) t.join();
    EXPECT_EQ(ok.load(), 4);
    auto s = fresh.open();
    EXPECT_EQ(count_rows(*s.database, "SELECT COUNT(*) FROM schema_version"),
              store::all_migrations().back().version);
}

SBX_BOTH_ENGINES(Migrations);

}  // namespace
}  // namespace sbx::testing
