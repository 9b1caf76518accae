// Versioned schema migrations, run at start: each in its own transaction, both engines.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "store/sql.h"

namespace sbx::store {

struct Migration {
    int version;              // 1, 2, 3, ... in order, never reused
    std::string description;  // kept in schema_version
    std::string sqlite;       // statements for SQLite
    std::string postgres;     // statements for PostgreSQL
};

// The migrations this binary knows, in order (schema.cpp).
std::span<const Migration> all_migrations();

// Brings the database to the newest version this binary knows, applying what is missing, each
// migration with its schema_version row in one transaction (PostgreSQL: under an advisory lock,
// so replicas starting together apply each once). schema_too_new when the database was
// migrated by a newer binary: nothing is changed then. Returns the version reached.
Result<int> migrate(Database& db, std::span<const Migration> migrations = all_migrations());

// The database's version (0: no schema_version table yet).
Result<int> current_version(Connection& conn);

}  // namespace sbx::store
