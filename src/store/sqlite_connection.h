// SQLite: opening the database file (WAL, busy timeout) and a Connection over it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "store/sql.h"

namespace sbx::store {

struct SqliteOptions {
    std::chrono::milliseconds busy_timeout{5000};  // waits this long for another writer's lock
};

// Opens (creating if missing) the database file, in WAL mode. Errors name the file:
// read_only (the file, its directory or the file system cannot be written), corrupt (not a
// database, or damaged), unavailable/internal otherwise. Never deletes or rewrites a file it
// cannot use.
Result<std::unique_ptr<Connection>> open_sqlite(const std::filesystem::path& file,
                                                const SqliteOptions& options = {});

// Creates dir (and parents) with mode 0700 when missing. An existing dir is left as it is.
Result<void> make_state_dir(const std::filesystem::path& dir);

}  // namespace sbx::store
