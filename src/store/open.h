// Opening the configured store: SQLite in STATE_DIR or PostgreSQL at DATABASE_URL, migrated.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/sql.h"
#include "store/sql_repository.h"

namespace sbx::store {

struct StoreOptions {
    std::filesystem::path state_dir = "./state";  // SQLite: STATE_DIR/pysandbox.db
    std::string database_url;                     // non-empty: PostgreSQL
    unsigned connections = 4;                     // pool size
};

// The database and its repository, together (the repository refers to the database).
struct Store {
    std::unique_ptr<Database> database;
    std::unique_ptr<SqlRepository> repository;
    int schema_version = 0;
};

// The SQLite file's name inside STATE_DIR.
inline constexpr std::string_view kSqliteFile = "pysandbox.db";

// Makes STATE_DIR (0700) for SQLite, checks that a connection can be made (a PostgreSQL
// server that is down is an error here: the service does not start without its store),
// and runs the migrations. Errors say which database and what to do.
Result<Store> open_store(const StoreOptions& options);

}  // namespace sbx::store
