// The statements whose text differs between SQLite and PostgreSQL.
#include "store/job_columns.h"
#include "store/sql_repository.h"

namespace sbx::store {
namespace {

// Leasing: the rows are picked and updated in one statement. `lock` is PostgreSQL's row
// locking that lets concurrent workers skip each other's rows instead of waiting.
void add_lease_statements(DialectSql& d, std::string_view lock) {
    const std::string cols(kJobColumns);
    d.lease_jobs =
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_us = $2, "
        "attempts = attempts + 1, updated_us = $3 WHERE id IN (SELECT id FROM jobs "
        "WHERE state = 'queued' OR (state = 'running' AND lease_expires_us < $3) "
        "ORDER BY created_us, id LIMIT $4" +
        std::string(lock) + ") RETURNING " + cols;
    d.lease_callbacks =
        "UPDATE jobs SET lease_owner = $1, lease_expires_us = $2, updated_us = $3 "
        "WHERE id IN (SELECT id FROM jobs WHERE callback_state = 'pending' "
        "AND callback_next_us <= $3 AND (lease_expires_us IS NULL OR lease_expires_us < $3) "
        "ORDER BY callback_next_us, id LIMIT $4" +
        std::string(lock) + ") RETURNING " + cols;
}

// How each engine says the few things the rate statement needs.
struct Words {
    std::string_view least, greatest;          // LEAST/GREATEST, or SQLite's multi-argument MIN/MAX
    std::string_view real, integer;            // casts of $2 and $3, $4 and $5 to their types
    std::string_view floor_open, floor_close;  // FLOOR(x)::bigint, or CAST(x AS INTEGER)
    std::string_view now;                      // the database's clock, microseconds since the epoch
    std::string_view select_where;             // SQLite needs a WHERE before ON CONFLICT
};

// Refill-then-take in one statement, so that replicas racing on one bucket serialize on its
// row. `granted` is a column because RETURNING sees only the new row, and the grant depends on
// the old one. The refill is clamped at 0 when the clock went back, and the bucket's time
// never moves back.
std::string take_rate_tokens_sql(const Words& w) {
    const std::string burst = "$2" + std::string(w.real), rate = "$3" + std::string(w.real),
                      want = "$4" + std::string(w.integer), now = "$5" + std::string(w.integer);
    auto floor = [&](const std::string& x) {
        return std::string(w.floor_open) + x + std::string(w.floor_close);
    };
    const std::string avail = std::string(w.least) + "(" + burst + ", b.tokens + " +
                              std::string(w.greatest) +
                              "(excluded.updated_us - b.updated_us, 0) * " + rate + " / 1000000.0)";
    const std::string take = std::string(w.least) + "(" + want + ", " + floor(avail) + ")";
    const std::string first = std::string(w.least) + "(" + want + ", " + floor(burst) + ")";
    return "INSERT INTO rate_buckets AS b (bucket, tokens, granted, updated_us) SELECT $1, " +
           burst + " - " + first + ", " + first + ", COALESCE(" + now + ", " + std::string(w.now) +
           ")" + std::string(w.select_where) +
           " ON CONFLICT (bucket) DO UPDATE SET granted = " + take + ", tokens = " + avail + " - " +
           take + ", updated_us = " + std::string(w.greatest) +
           "(b.updated_us, excluded.updated_us) RETURNING granted, tokens";
}

DialectSql make_postgres() {
    DialectSql d;
    d.take_rate_tokens =
        take_rate_tokens_sql({"LEAST", "GREATEST", "::float8", "::bigint", "FLOOR(", ")::bigint",
                              "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint", ""});
    add_lease_statements(d, " FOR UPDATE SKIP LOCKED");
    return d;
}

// SQLite: CAST for FLOOR (the values are never negative); one write transaction (BEGIN
// IMMEDIATE) stands in for the row locks.
DialectSql make_sqlite() {
    DialectSql d;
    d.take_rate_tokens = take_rate_tokens_sql(
        {"MIN", "MAX", "", "", "CAST(", " AS INTEGER)",
         "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)", " WHERE true"});
    add_lease_statements(d, "");
    return d;
}

}  // namespace

const DialectSql& dialect_sql(Dialect d) {
    static const DialectSql postgres = make_postgres();
    static const DialectSql sqlite = make_sqlite();
    return d == Dialect::postgres ? postgres : sqlite;
}

}  // namespace sbx::store
