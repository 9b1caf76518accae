// SQL values and the connection pool.
#include "store/sql.h"

#include <cstring>

namespace sbx::store {

Value null_or(const std::optional<std::int64_t>& v) { return v ? Value{*v} : Value{}; }
Value null_or(const std::optional<double>& v) { return v ? Value{*v} : Value{}; }
Value null_or(const std::optional<std::string>& v) { return v ? Value{*v} : Value{}; }
Value null_or_blob(const std::optional<std::string>& v) { return v ? Value{Blob{*v}} : Value{}; }

std::int64_t int_at(const Row& row, std::size_t i, std::int64_t fallback) {
    if (i >= row.size()) return fallback;
    if (const auto* v = std::get_if<std::int64_t>(&row[i])) return *v;
    if (const auto* d = std::get_if<double>(&row[i])) return static_cast<std::int64_t>(*d);
    return fallback;
}

double real_at(const Row& row, std::size_t i, double fallback) {
    if (i >= row.size()) return fallback;
    if (const auto* d = std::get_if<double>(&row[i])) return *d;
    if (const auto* v = std::get_if<std::int64_t>(&row[i])) return static_cast<double>(*v);
    return fallback;
}

std::string text_at(const Row& row, std::size_t i) { return opt_text_at(row, i).value_or(""); }

std::optional<std::int64_t> opt_int_at(const Row& row, std::size_t i) {
    if (i >= row.size() || std::holds_alternative<std::monostate>(row[i])) return std::nullopt;
    return int_at(row, i);
}

std::optional<double> opt_real_at(const Row& row, std::size_t i) {
    if (i >= row.size() || std::holds_alternative<std::monostate>(row[i])) return std::nullopt;
    return real_at(row, i);
}

std::optional<std::string> opt_text_at(const Row& row, std::size_t i) {
    if (i >= row.size()) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(&row[i])) return *s;
    if (const auto* b = std::get_if<Blob>(&row[i])) return b->bytes;
    return std::nullopt;
}

Result<void> check_text(std::string_view s) {
    if (std::memchr(s.data(), '\0', s.size()) != nullptr) {
        return StoreError{StoreErrc::invalid, "text contains a NUL byte"};
    }
    // Well-formed UTF-8 (RFC 3629): no overlongs, surrogates or code points past U+10FFFF.
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        int len = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len != 0 && end - p >= len;
        std::uint32_t cp = ok ? (*p & (0x7F >> len)) : 0;
        for (int k = 1; ok && k < len; ++k) {
            ok = (p[k] & 0xC0) == 0x80;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (!ok || cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return StoreError{StoreErrc::invalid, "text is not valid UTF-8"};
        }
        p += len;
    }
    return {};
}

Database::Database(Dialect dialect, Factory factory, unsigned connections, std::string description,
                   std::chrono::milliseconds acquire_timeout)
    : dialect_(dialect),
      factory_(std::move(factory)),
      capacity_(connections == 0 ? 1 : connections),
      description_(std::move(description)),
      acquire_timeout_(acquire_timeout) {}

Result<Database::Lease> Database::acquire() {
    std::unique_lock lock(mu_);
    bool ready =
        cv_.wait_for(lock, acquire_timeout_, [&] { return !idle_.empty() || open_ < capacity_; });
    if (!ready) {
        return StoreError{StoreErrc::unavailable,
                          "all " + std::to_string(capacity_) + " database connections stayed busy"};
    }
    if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease{std::move(conn), true};
    }
    ++open_;
    lock.unlock();
    auto made = factory_();  // connecting may take a while: not under the lock
    if (!made) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return std::move(made).error();
    }
    return Lease{std::move(*made), false};
}

void Database::release(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu_);
    if (conn && conn->usable()) {
        idle_.push_back(std::move(conn));
    } else {
        // A lost connection usually means the server went away: the idle ones are lost too.
        open_ -= static_cast<unsigned>(idle_.size()) + 1;
        idle_.clear();
    }
    cv_.notify_all();
}

Result<void> Database::run_once(Connection& conn, Tx tx,
                                const std::function<Result<void>(Connection&)>& fn) {
    if (tx == Tx::none) return fn(conn);
    const char* begin =
        tx == Tx::write && dialect_ == Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN";
    STORE_TRY_VOID(conn.query(begin));
    auto r = fn(conn);
    if (r) {
        auto committed = conn.query("COMMIT");
        if (committed) return {};
        r = std::move(committed).error();
    }
    if (conn.usable()) (void)conn.query("ROLLBACK");  // a lost connection rolled back already
    return r;
}

Result<void> Database::run(Tx tx, const std::function<Result<void>(Connection&)>& fn) {
    for (int attempt = 0;; ++attempt) {
        STORE_TRY(auto lease, acquire());
        auto r = run_once(*lease.conn, tx, fn);
        const bool lost = !lease.conn->usable();
        release(std::move(lease.conn));
        // Only a connection that sat idle is retried: it may have died with a server restart
        // before this call. A fresh one failing means the server is down now.
        if (r || !lost || !lease.reused || attempt > 0) return r;
    }
}

}  // namespace sbx::store
