// PostgreSQL connection over libpq: statements prepared once per connection, parameters bound
// (text format, bytea in binary), SQLSTATEs mapped to StoreErrc.
#include "store/postgres_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <unordered_map>

namespace sbx::store {
namespace {

// PostgreSQL type OIDs of pg_type (stable across versions).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

StoreErrc classify_sqlstate(std::string_view state) {
    if (state == "23505") return StoreErrc::conflict;
    if (state.starts_with("22") || state.starts_with("23")) return StoreErrc::invalid;
    // connection exceptions, shutdown, resources, timeouts, serialization: try again later
    if (state.starts_with("08") || state.starts_with("57") || state.starts_with("53") ||
        state.starts_with("40")) {
        return StoreErrc::unavailable;
    }
    if (state == "25006") return StoreErrc::read_only;  // read-only transaction (a standby)
    return StoreErrc::internal;
}

class PostgresConnection final : public Connection {
   public:
    explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
    ~PostgresConnection() override { PQfinish(conn_); }
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    [[nodiscard]] Dialect dialect() const override { return Dialect::postgres; }
    [[nodiscard]] bool usable() const override { return PQstatus(conn_) == CONNECTION_OK; }

    using Connection::query;
    Result<QueryResult> query(std::string_view sql, std::span<const Value> params) override;

    Result<void> exec_script(std::string_view sql) override {
        PgResult res(PQexec(conn_, std::string(sql).c_str()));
        return check(res.get());
    }

   private:
    Result<void> check(const PGresult* res) const {
        ExecStatusType st = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
        std::string msg = PQerrorMessage(conn_);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        if (!usable() || res == nullptr) return StoreError{StoreErrc::unavailable, msg};
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        return StoreError{classify_sqlstate(state != nullptr ? state : ""), msg};
    }
    Result<std::string> prepared_name(std::string_view sql);
    static Value column(const PGresult* res, int row, int col);

    PGconn* conn_;
    std::unordered_map<std::string, std::string> statements_;  // SQL text -> prepared name
};

Result<std::string> PostgresConnection::prepared_name(std::string_view sql) {
    std::string key(sql);
    if (auto it = statements_.find(key); it != statements_.end()) return it->second;
    std::string name = "s" + std::to_string(statements_.size() + 1);
    // Parameter types come from the statement's context (columns, casts in the SQL).
    PgResult res(PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr));
    STORE_TRY_VOID(check(res.get()));
    statements_.emplace(std::move(key), name);
    return name;
}

Value PostgresConnection::column(const PGresult* res, int row, int col) {
    if (PQgetisnull(res, row, col) != 0) return Value{};
    const char* text = PQgetvalue(res, row, col);
    const auto len = static_cast<std::size_t>(PQgetlength(res, row, col));
    switch (PQftype(res, col)) {
        case kInt2:
        case kInt4:
        case kInt8: {
            std::int64_t v = 0;
            std::from_chars(text, text + len, v);
            return Value{v};
        }
        case kFloat4:
        case kFloat8:
        case kNumeric:
            return Value{std::strtod(text, nullptr)};
        case kBool:
            return Value{std::int64_t{text[0] == 't' ? 1 : 0}};
        case kBytea: {
            std::size_t n = 0;
            unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
            Blob b{raw == nullptr ? std::string() : std::string(reinterpret_cast<char*>(raw), n)};
            PQfreemem(raw);
            return Value{std::move(b)};
        }
        default:
            return Value{std::string(text, len)};
    }
}

Result<QueryResult> PostgresConnection::query(std::string_view sql, std::span<const Value> params) {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Value& v = params[i];
        if (const auto* n = std::get_if<std::int64_t>(&v)) {
            text[i] = std::to_string(*n);
        } else if (const auto* d = std::get_if<double>(&v)) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", *d);
            text[i] = buf;
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            STORE_TRY_VOID(check_text(*s));
            values[i] = s->c_str();
            lengths[i] = static_cast<int>(s->size());
            continue;
        } else if (const auto* b = std::get_if<Blob>(&v)) {
            values[i] = b->bytes.data();
            lengths[i] = static_cast<int>(b->bytes.size());
            formats[i] = 1;  // binary bytea: the bytes as they are
            continue;
        } else {
            continue;  // NULL
        }
        values[i] = text[i].c_str();
        lengths[i] = static_cast<int>(text[i].size());
    }
    STORE_TRY(auto name, prepared_name(sql));
    PgResult res(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(),
                                lengths.data(), formats.data(), 0));
    STORE_TRY_VOID(check(res.get()));
    QueryResult out;
    const int rows = PQntuples(res.get());
    const int cols = PQnfields(res.get());
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
        Row row;
        row.reserve(static_cast<std::size_t>(cols));
        for (int c = 0; c < cols; ++c) row.push_back(column(res.get(), r, c));
        out.rows.push_back(std::move(row));
    }
    const char* affected = PQcmdTuples(res.get());
    if (affected != nullptr && *affected != '\0')
        out.affected = std::strtoll(affected, nullptr, 10);
    return out;
}

}  // namespace

Result<std::unique_ptr<Connection>> connect_postgres(const std::string& url,
                                                     const PostgresOptions& options) {
    const std::string timeout = std::to_string(options.connect_timeout.count());
    const std::string opts =
        "-c statement_timeout=" + std::to_string(options.statement_timeout.count());
    // Later entries override earlier ones: the defaults first, then the URL's own parameters.
    const char* keys[] = {"connect_timeout", "options", "application_name",
                          "client_encoding", "dbname",  nullptr};
    const char* vals[] = {timeout.c_str(), opts.c_str(), "pysandbox", "UTF8", url.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, vals, 1);
    if (conn == nullptr) return StoreError{StoreErrc::unavailable, "libpq: out of memory"};
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        PQfinish(conn);
        return StoreError{StoreErrc::unavailable, msg};
    }
    // NOTICEs ("relation ... already exists, skipping") are not errors: not printed to stderr.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return std::unique_ptr<Connection>(std::make_unique<PostgresConnection>(conn));
}

std::string describe_postgres_url(const std::string& url) {
    PQconninfoOption* opts = PQconninfoParse(url.c_str(), nullptr);
    if (opts == nullptr) return "postgresql://(unparsable URL)";
    std::string host, port, db;
    for (auto* o = opts; o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        std::string_view k = o->keyword;
        if (k == "host") host = o->val;
        if (k == "port") port = o->val;
        if (k == "dbname") db = o->val;
    }
    PQconninfoFree(opts);
    return "postgresql://" + host + (port.empty() ? "" : ":" + port) + "/" + db;
}

}  // namespace sbx::store
