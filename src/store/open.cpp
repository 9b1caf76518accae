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

// What the operator can do about an error at start.
std::string_view hint(StoreErrc code) {
    switch (code) {
        case StoreErrc::corrupt:
            return "the file is left as it is: restore it from a backup, or move it away to "
                   "start with an empty store";
        case StoreErrc::read_only:
            return "pysandbox must be able to write the file and its directory (it keeps -wal "
                   "and -shm files beside it)";
        case StoreErrc::unavailable:
            return "is the database server running, and DATABASE_URL right?";
        case StoreErrc::schema_too_new:
        case StoreErrc::invalid:
        case StoreErrc::conflict:
        case StoreErrc::not_found:
        case StoreErrc::internal:
            return "";
    }
    return "";
}

}  // namespace

Result<Store> open_store(const StoreOptions& given) {
    StoreOptions options = given;
    std::error_code ec;
    if (options.database_url.empty()) {
        auto absolute = std::filesystem::absolute(options.state_dir, ec);
        if (!ec) options.state_dir = absolute.lexically_normal();
        STORE_TRY_VOID(make_state_dir(options.state_dir));
    }
    Store s;
    s.database = make_database(options);
    auto fail = [&](StoreError e) {
        // SQLite's messages name the file already; PostgreSQL's do not name the database.
        if (s.database->dialect() == Dialect::postgres) {
            e.message = s.database->description() + ": " + e.message;
        }
        if (auto h = hint(e.code); !h.empty()) e.message += ": " + std::string(h);
        return e;
    };
    auto migrated = migrate(*s.database);
    if (!migrated) return fail(std::move(migrated).error());
    s.schema_version = *migrated;
    s.repository = std::make_unique<SqlRepository>(*s.database);
    return s;
}

}  // namespace sbx::store
