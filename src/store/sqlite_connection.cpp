// SQLite connection: prepared statements cached per SQL text, $N placeholders as ?N.
#include "store/sqlite_connection.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace sbx::store {
namespace {

StoreErrc classify(int rc) {
    switch (rc & 0xFF) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return StoreErrc::unavailable;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return StoreErrc::corrupt;
        case SQLITE_READONLY:
        case SQLITE_PERM:
            return StoreErrc::read_only;
        case SQLITE_CONSTRAINT:
            return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE
                       ? StoreErrc::conflict
                       : StoreErrc::invalid;
        case SQLITE_TOOBIG:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
            return StoreErrc::invalid;
        default:
            return StoreErrc::internal;
    }
}

// "$12" -> "?12": SQLite's numbered parameter. Our SQL has no '$' inside string literals.
std::string to_sqlite_placeholders(std::string_view sql) {
    std::string out(sql);
    for (auto& c : out) {
        if (c == '$') c = '?';
    }
    return out;
}

class SqliteConnection final : public Connection {
   public:
    SqliteConnection(sqlite3* db, std::string file) : db_(db), file_(std::move(file)) {}
    ~SqliteConnection() override {
        for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
        sqlite3_close_v2(db_);
    }
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    [[nodiscard]] Dialect dialect() const override { return Dialect::sqlite; }
    [[nodiscard]] bool usable() const override { return true; }

    using Connection::query;
    Result<QueryResult> query(std::string_view sql, std::span<const Value> params) override;

    Result<void> exec_script(std::string_view sql) override {
        std::string text(sql);
        char* msg = nullptr;
        int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
        if (rc == SQLITE_OK) return {};
        std::string detail = msg != nullptr ? msg : sqlite3_errstr(rc);
        sqlite3_free(msg);
        return StoreError{classify(rc), detail + " [" + file_ + "]"};
    }

    StoreError error(int rc) const {
        return StoreError{classify(rc), std::string(sqlite3_errmsg(db_)) + " [" + file_ + "]"};
    }

   private:
    Result<sqlite3_stmt*> prepare(std::string_view sql);
    Result<void> bind(sqlite3_stmt* stmt, std::span<const Value> params);
    static Value column(sqlite3_stmt* stmt, int i);

    sqlite3* db_;
    std::string file_;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

Result<sqlite3_stmt*> SqliteConnection::prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() >= 128) {  // the statements are a fixed set; this bounds a mistake
        for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
        cache_.clear();
    }
    std::string text = to_sqlite_placeholders(sql);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc);
    cache_.emplace(std::move(key), stmt);
    return stmt;
}

Result<void> SqliteConnection::bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int at = static_cast<int>(i) + 1;
        int rc = SQLITE_OK;
        const Value& v = params[i];
        if (std::holds_alternative<std::monostate>(v)) {
            rc = sqlite3_bind_null(stmt, at);
        } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
            rc = sqlite3_bind_int64(stmt, at, *n);
        } else if (const auto* d = std::get_if<double>(&v)) {
            rc = sqlite3_bind_double(stmt, at, *d);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            STORE_TRY_VOID(check_text(*s));
            rc = sqlite3_bind_text64(stmt, at, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        } else if (const auto* b = std::get_if<Blob>(&v)) {
            rc = b->bytes.empty() ? sqlite3_bind_zeroblob(stmt, at, 0)
                                  : sqlite3_bind_blob64(stmt, at, b->bytes.data(), b->bytes.size(),
                                                        SQLITE_TRANSIENT);
        }
        if (rc != SQLITE_OK) return error(rc);
    }
    return {};
}

Value SqliteConnection::column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
            return Value{static_cast<std::int64_t>(sqlite3_column_int64(stmt, i))};
        case SQLITE_FLOAT:
            return Value{sqlite3_column_double(stmt, i)};
        case SQLITE_TEXT: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            return Value{std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)))};
        }
        case SQLITE_BLOB: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
            auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
            return Value{Blob{p == nullptr ? std::string() : std::string(p, n)}};
        }
        default:
            return Value{};
    }
}

Result<QueryResult> SqliteConnection::query(std::string_view sql, std::span<const Value> params) {
    STORE_TRY(sqlite3_stmt * stmt, prepare(sql));
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    auto bound = bind(stmt, params);
    if (!bound) return std::move(bound).error();
    QueryResult out;
    const int columns = sqlite3_column_count(stmt);
    for (;;) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
            auto err = error(rc);
            sqlite3_reset(stmt);
            return err;
        }
        Row row;
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) row.push_back(column(stmt, c));
        out.rows.push_back(std::move(row));
    }
    out.affected = sqlite3_changes64(db_);
    sqlite3_reset(stmt);  // ends the statement's read transaction
    return out;
}

Result<void> configure(SqliteConnection& conn, sqlite3* db, const SqliteOptions& options) {
    if (sqlite3_db_readonly(db, "main") == 1) {
        return StoreError{StoreErrc::read_only, "the database file cannot be written"};
    }
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    // WAL: readers do not block the writer (history queries while runs are recorded).
    STORE_TRY(auto mode, conn.query("PRAGMA journal_mode=WAL"));
    if (mode.rows.empty() || text_at(mode.rows[0], 0) != "wal") {
        return StoreError{StoreErrc::read_only,
                          "cannot switch to WAL mode (is the directory writable?)"};
    }
    STORE_TRY_VOID(conn.exec_script("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    // Reading the schema reads page 1: a damaged file fails here, at start, not on first use.
    STORE_TRY_VOID(conn.query("SELECT count(*) FROM sqlite_schema"));
    return {};
}

}  // namespace

Result<std::unique_ptr<Connection>> open_sqlite(const std::filesystem::path& file,
                                                const SqliteOptions& options) {
    // A new file is made 0600 here (SQLite would make it 0644); its -wal and -shm files take
    // the same mode from it.
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    sqlite3* db = nullptr;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        StoreErrc code = classify(rc);
        if ((rc & 0xFF) == SQLITE_CANTOPEN) code = StoreErrc::read_only;
        return StoreError{code, msg + " [" + file.string() + "]"};
    }
    auto conn = std::make_unique<SqliteConnection>(db, file.string());
    auto ok = configure(*conn, db, options);
    if (!ok) {
        auto e = std::move(ok).error();
        if (e.message.find(file.string()) == std::string::npos)
            e.message += " [" + file.string() + "]";
        return e;
    }
    return std::unique_ptr<Connection>(std::move(conn));
}

Result<void> make_state_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return {};
    if (!dir.parent_path().empty() && dir.parent_path() != dir) {
        std::filesystem::create_directories(dir.parent_path(), ec);
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        int err = errno;
        return StoreError{
            err == EROFS || err == EACCES ? StoreErrc::read_only : StoreErrc::internal,
            "mkdir " + dir.string() + ": " + std::strerror(err)};
    }
    return {};
}

}  // namespace sbx::store
