// SqlRepository, API keys: create, read, list, update, revoke.
#include <boost/json.hpp>

#include "store/migrations.h"
#include "store/sql_repository.h"

namespace sbx::store {
namespace {

namespace json = boost::json;

constexpr std::string_view kKeyColumns =
    "id, name, role, key_hash, rate_per_s, burst, concurrency, sessions, cpu_seconds_per_day, "
    "network, limit_caps, created_us, revoked_us, updated_us";

std::string caps_to_json(const LimitCaps& c) {
    json::object o;
    if (c.memory_mb) o["memory_mb"] = *c.memory_mb;
    if (c.cpu_seconds) o["cpu_seconds"] = *c.cpu_seconds;
    if (c.processes) o["processes"] = *c.processes;
    if (c.output_bytes) o["output_bytes"] = *c.output_bytes;
    if (c.workdir_mb) o["workdir_mb"] = *c.workdir_mb;
    if (c.timeout_s) o["timeout_s"] = *c.timeout_s;
    return json::serialize(o);
}

std::optional<LimitCaps> caps_from_json(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(*text, ec);
    if (ec || !v.is_object()) return LimitCaps{};
    const auto& o = v.as_object();
    auto integer = [&](const char* k) -> std::optional<std::int64_t> {
        const auto* f = o.if_contains(k);
        return f != nullptr && f->is_int64() ? std::optional(f->as_int64()) : std::nullopt;
    };
    LimitCaps c;
    c.memory_mb = integer("memory_mb");
    if (const auto* f = o.if_contains("cpu_seconds"); f != nullptr && f->is_number()) {
        c.cpu_seconds = f->to_number<double>();
    }
    c.processes = integer("processes");
    c.output_bytes = integer("output_bytes");
    c.workdir_mb = integer("workdir_mb");
    c.timeout_s = integer("timeout_s");
    return c;
}

KeyRecord key_from_row(const Row& r) {
    KeyRecord k;
    k.id = text_at(r, 0);
    k.name = text_at(r, 1);
    k.role = role_from(text_at(r, 2)).value_or(Role::user);
    k.key_hash = text_at(r, 3);
    k.limits.rate_per_s = real_at(r, 4);
    k.limits.burst = static_cast<std::uint32_t>(int_at(r, 5));
    k.limits.concurrency = static_cast<std::uint32_t>(int_at(r, 6));
    k.limits.sessions = static_cast<std::uint32_t>(int_at(r, 7));
    k.limits.cpu_seconds_per_day = real_at(r, 8);
    if (auto n = opt_int_at(r, 9)) k.limits.network = *n != 0;
    k.limits.caps = caps_from_json(opt_text_at(r, 10));
    k.created_us = int_at(r, 11);
    k.revoked_us = opt_int_at(r, 12);
    k.updated_us = int_at(r, 13);
    return k;
}

// Every column but id, in kKeyColumns order from name on.
std::vector<Value> key_values(const KeyRecord& k) {
    return {Value{k.name},
            Value{std::string(to_string(k.role))},
            Value{Blob{k.key_hash}},
            Value{k.limits.rate_per_s},
            Value{std::int64_t{k.limits.burst}},
            Value{std::int64_t{k.limits.concurrency}},
            Value{std::int64_t{k.limits.sessions}},
            Value{k.limits.cpu_seconds_per_day},
            k.limits.network ? Value{std::int64_t{*k.limits.network ? 1 : 0}} : Value{},
            k.limits.caps ? Value{caps_to_json(*k.limits.caps)} : Value{},
            Value{k.created_us},
            null_or(k.revoked_us),
            Value{k.updated_us}};
}

void apply(KeyRecord& k, const KeyUpdate& u) {
    if (u.name) k.name = *u.name;
    if (u.role) k.role = *u.role;
    if (u.rate_per_s) k.limits.rate_per_s = *u.rate_per_s;
    if (u.burst) k.limits.burst = *u.burst;
    if (u.concurrency) k.limits.concurrency = *u.concurrency;
    if (u.sessions) k.limits.sessions = *u.sessions;
    if (u.cpu_seconds_per_day) k.limits.cpu_seconds_per_day = *u.cpu_seconds_per_day;
    if (u.network) k.limits.network = *u.network;
    if (u.caps) k.limits.caps = *u.caps;
}

Result<KeyRecord> read_for_update(Connection& c, const std::string& id) {
    // PostgreSQL locks the row for the read-modify-write; SQLite's write transaction already
    // holds the database's write lock.
    std::string sql = "SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = $1";
    if (c.dialect() == Dialect::postgres) sql += " FOR UPDATE";
    STORE_TRY(auto r, c.query(sql, {Value{id}}));
    if (r.rows.empty()) return StoreError{StoreErrc::not_found, "no key " + id};
    return key_from_row(r.rows[0]);
}

Result<void> write_key(Connection& c, const KeyRecord& k) {
    auto values = key_values(k);
    values.push_back(Value{k.id});
    STORE_TRY(auto r, c.query("UPDATE api_keys SET name = $1, role = $2, key_hash = $3, "
                              "rate_per_s = $4, burst = $5, concurrency = $6, sessions = $7, "
                              "cpu_seconds_per_day = $8, network = $9, limit_caps = $10, "
                              "created_us = $11, revoked_us = $12, updated_us = $13 "
                              "WHERE id = $14",
                              values));
    if (r.affected != 1) return StoreError{StoreErrc::not_found, "no key " + k.id};
    return {};
}

}  // namespace

Result<void> SqlRepository::create_key(const KeyRecord& key) {
    auto values = key_values(key);
    values.insert(values.begin(), Value{key.id});
    return db_.run(Tx::none, [&](Connection& c) -> Result<void> {
        STORE_TRY_VOID(c.query("INSERT INTO api_keys (" + std::string(kKeyColumns) +
                                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                                   "$13, $14)",
                               values));
        return {};
    });
}

Result<std::optional<KeyRecord>> SqlRepository::get_key(const std::string& id) {
    return db_.get<std::optional<KeyRecord>>(
        Tx::none, [&](Connection& c) -> Result<std::optional<KeyRecord>> {
            STORE_TRY(auto r,
                      c.query("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = $1",
                              {Value{id}}));
            if (r.rows.empty()) return std::optional<KeyRecord>{};
            return std::optional<KeyRecord>{key_from_row(r.rows[0])};
        });
}

Result<std::vector<KeyRecord>> SqlRepository::list_keys(bool include_revoked) {
    return db_.get<std::vector<KeyRecord>>(
        Tx::none, [&](Connection& c) -> Result<std::vector<KeyRecord>> {
            std::string sql = "SELECT " + std::string(kKeyColumns) + " FROM api_keys";
            if (!include_revoked) sql += " WHERE revoked_us IS NULL";
            sql += " ORDER BY created_us, id";
            STORE_TRY(auto r, c.query(sql));
            std::vector<KeyRecord> out;
            out.reserve(r.rows.size());
            for (const auto& row : r.rows) out.push_back(key_from_row(row));
            return out;
        });
}

Result<KeyRecord> SqlRepository::update_key(const std::string& id, const KeyUpdate& update,
                                            TimeUs now) {
    return db_.get<KeyRecord>(Tx::write, [&](Connection& c) -> Result<KeyRecord> {
        STORE_TRY(auto key, read_for_update(c, id));
        apply(key, update);
        key.updated_us = now;
        STORE_TRY_VOID(write_key(c, key));
        return key;
    });
}

Result<KeyRecord> SqlRepository::revoke_key(const std::string& id, TimeUs now) {
    return db_.get<KeyRecord>(Tx::write, [&](Connection& c) -> Result<KeyRecord> {
        STORE_TRY(auto key, read_for_update(c, id));
        if (key.revoked_us) return key;
        key.revoked_us = now;
        key.updated_us = now;
        STORE_TRY_VOID(write_key(c, key));
        return key;
    });
}

Result<int> SqlRepository::schema_version() {
    return db_.get<int>(Tx::none, [](Connection& c) { return current_version(c); });
}

}  // namespace sbx::store
