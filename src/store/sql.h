// SQL values, a connection interface both engines implement, and a pool of connections.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/error.h"

namespace sbx::store {

enum class Dialect : std::uint8_t { sqlite, postgres };

struct Blob {
    std::string bytes;  // any bytes (NUL, invalid UTF-8): BLOB in SQLite, BYTEA in PostgreSQL
};

// A parameter or a column value. Text must be UTF-8 without NUL (both engines are held to what
// PostgreSQL can store, so that a value works or fails the same on both): else StoreErrc::invalid.
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

struct QueryResult {
    std::vector<Row> rows;
    std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// Parameter helpers: nullopt becomes NULL.
Value null_or(const std::optional<std::int64_t>& v);
Value null_or(const std::optional<double>& v);
Value null_or(const std::optional<std::string>& v);
Value null_or_blob(const std::optional<std::string>& v);

// Column readers: NULL (or a value of another kind) reads as the fallback / nullopt.
std::int64_t int_at(const Row& row, std::size_t i, std::int64_t fallback = 0);
double real_at(const Row& row, std::size_t i, double fallback = 0);
std::string text_at(const Row& row, std::size_t i);  // text or blob bytes
std::optional<std::int64_t> opt_int_at(const Row& row, std::size_t i);
std::optional<double> opt_real_at(const Row& row, std::size_t i);
std::optional<std::string> opt_text_at(const Row& row, std::size_t i);

// Checks a text parameter: UTF-8 and no NUL.
Result<void> check_text(std::string_view text);

// One connection; used by one thread at a time (the pool hands it out).
class Connection {
   public:
    virtual ~Connection() = default;
    [[nodiscard]] virtual Dialect dialect() const = 0;
    // One statement with $1..$N placeholders. Values are always bound, never spliced into text.
    virtual Result<QueryResult> query(std::string_view sql, std::span<const Value> params) = 0;
    Result<QueryResult> query(std::string_view sql, std::initializer_list<Value> params = {}) {
        return query(sql, std::span<const Value>(params.begin(), params.size()));
    }
    // Several statements without parameters (schema migrations).
    virtual Result<void> exec_script(std::string_view sql) = 0;
    // False once the connection is known to be lost: the pool then drops it.
    [[nodiscard]] virtual bool usable() const = 0;
};

enum class Tx : std::uint8_t {
    none,   // each statement on its own
    read,   // BEGIN (deferred)
    write,  // SQLite: BEGIN IMMEDIATE (takes the write lock first); PostgreSQL: BEGIN
};

// A bounded pool of connections made on demand by a factory. Thread-safe; calls block.
class Database {
   public:
    using Factory = std::function<Result<std::unique_ptr<Connection>>()>;

    Database(Dialect dialect, Factory factory, unsigned connections, std::string description,
             std::chrono::milliseconds acquire_timeout = std::chrono::seconds(10));
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    [[nodiscard]] Dialect dialect() const { return dialect_; }
    // "sqlite:/var/lib/pysandbox/pysandbox.db" or "postgresql://host:port/db" (no password).
    [[nodiscard]] const std::string& description() const { return description_; }

    // Runs fn on one connection, in a transaction unless tx is none (committed when fn
    // succeeds, rolled back otherwise). A connection that was idle and turns out lost (the
    // server restarted) is replaced and fn retried once on a new one.
    Result<void> run(Tx tx, const std::function<Result<void>(Connection&)>& fn);

    template <class T, class F>
    Result<T> get(Tx tx, F&& fn) {
        std::optional<T> out;
        auto r = run(tx, [&](Connection& c) -> Result<void> {
            auto v = fn(c);
            if (!v) return std::move(v).error();
            out = std::move(*v);
            return {};
        });
        if (!r) return std::move(r).error();
        return std::move(*out);
    }

   private:
    struct Lease {
        std::unique_ptr<Connection> conn;
        bool reused = false;
    };
    Result<Lease> acquire();
    void release(std::unique_ptr<Connection> conn);
    Result<void> run_once(Connection& conn, Tx tx,
                          const std::function<Result<void>(Connection&)>& fn);

    const Dialect dialect_;
    const Factory factory_;
    const unsigned capacity_;
    const std::string description_;
    const std::chrono::milliseconds acquire_timeout_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
    unsigned open_ = 0;  // idle + handed out + being made
};

}  // namespace sbx::store
