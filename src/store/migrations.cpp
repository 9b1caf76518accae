// Migration runner: schema_version bookkeeping, one transaction per step, refusal of newer schemas.
#include "store/migrations.h"

#include "store/types.h"

namespace sbx::store {
namespace {

// Any fixed number: PostgreSQL advisory locks are one namespace per database.
constexpr std::int64_t kMigrationLock = 0x707973616E64;  // "pysand"

constexpr std::string_view kVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_us BIGINT NOT NULL)";

Result<void> apply_one(Connection& conn, const Migration& m) {
    if (conn.dialect() == Dialect::postgres) {
        STORE_TRY_VOID(conn.query("SELECT pg_advisory_xact_lock($1)", {Value{kMigrationLock}}));
        STORE_TRY_VOID(conn.query("SET LOCAL statement_timeout = 0"));  // big tables take time
    }
    // Another replica may have applied it while this one waited for the lock.
    STORE_TRY(int version, current_version(conn));
    if (version >= m.version) return {};
    STORE_TRY_VOID(conn.exec_script(conn.dialect() == Dialect::sqlite ? m.sqlite : m.postgres));
    STORE_TRY_VOID(conn.query(
        "INSERT INTO schema_version (version, description, applied_us) VALUES ($1, $2, $3)",
        {Value{std::int64_t{m.version}}, Value{std::string(m.description)}, Value{now_us()}}));
    return {};
}

}  // namespace

Result<int> current_version(Connection& conn) {
    STORE_TRY(auto r, conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    return static_cast<int>(r.rows.empty() ? 0 : int_at(r.rows[0], 0));
}

Result<int> migrate(Database& db, std::span<const Migration> migrations) {
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    STORE_TRY_VOID(db.run(Tx::write, [](Connection& c) -> Result<void> {
        if (c.dialect() == Dialect::postgres) {
            STORE_TRY_VOID(c.query("SELECT pg_advisory_xact_lock($1)", {Value{kMigrationLock}}));
        }
        return c.exec_script(kVersionTable);
    }));
    STORE_TRY(int version, db.get<int>(Tx::read, [](Connection& c) { return current_version(c); }));
    if (version > newest) {
        return StoreError{StoreErrc::schema_too_new,
                          "the database's schema is version " + std::to_string(version) +
                              ", newer than this pysandbox knows (" + std::to_string(newest) +
                              "): run the newer pysandbox, or restore a backup"};
    }
    for (const auto& m : migrations) {
        if (m.version <= version) continue;
        auto applied = db.run(Tx::write, [&](Connection& c) { return apply_one(c, m); });
        if (!applied) {
            auto e = std::move(applied).error();
            e.message = "migration " + std::to_string(m.version) + " (" +
                        std::string(m.description) + "): " + e.message;
            return e;
        }
        version = m.version;
    }
    return version;
}

}  // namespace sbx::store
