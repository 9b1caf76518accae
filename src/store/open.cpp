// open_store: picks the engine, makes the pool, checks the first connection, migrates.
#include "store/open.h"

#include "store/migrations.h"
#include "store/postgres_connection.h"
#include "store/sqlite_connection.h"

namespace sbx::store {
namespace {

std::unique_ptr<Database> make_database(const StoreOptions& o) {
    if (!o.database_url.empty()) {
        return std::make_unique<Database>(
            Dialect::postgres, [url = o.database_url] { return connect_postgres(url); },
            o.connections, describe_postgres_url(o.database_url));
    }
    const auto file = o.state_dir / kSqliteFile;
    return std::make_unique<Database>(
        Dialect::sqlite, [file] { return open_sqlite(file); }, o.connections,
        "sqlite:" + file.string());
}

}  // namespace

Result<Store> open_store(const StoreOptions& options) {
    if (options.database_url.empty()) STORE_TRY_VOID(make_state_dir(options.state_dir));
    Store s;
    s.database = make_database(options);
    auto fail = [&](StoreError e) {
        e.message = s.database->description() + ": " + e.message;
        return e;
    };
    auto migrated = migrate(*s.database);
    if (!migrated) return fail(std::move(migrated).error());
    s.schema_version = *migrated;
    s.repository = std::make_unique<SqlRepository>(*s.database);
    return s;
}

}  // namespace sbx::store
