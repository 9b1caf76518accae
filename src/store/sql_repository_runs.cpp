// SqlRepository, run history: batched inserts, cursor-paged listing, retention.
#include "store/sql_repository.h"

namespace sbx::store {
namespace {

constexpr std::string_view kRunColumns =
    "run_id, key_id, session_id, language, started_us, duration_us, queue_wait_us, status, "
    "exit_code, signal, cpu_seconds, memory_peak_bytes, code_bytes, input_bytes, stdout_bytes, "
    "stderr_bytes, output_files, output_files_bytes, code, stdout_text, stderr_text";
constexpr std::size_t kRunColumnCount = 21;
constexpr std::size_t kMaxPage = 1000;

RunRecord run_from_row(const Row& r) {
    RunRecord x;
    x.run_id = text_at(r, 0);
    x.key_id = opt_text_at(r, 1);
    x.session_id = opt_text_at(r, 2);
    x.language = text_at(r, 3);
    x.started_us = int_at(r, 4);
    x.duration_us = int_at(r, 5);
    x.queue_wait_us = int_at(r, 6);
    x.status = text_at(r, 7);
    x.exit_code = opt_int_at(r, 8);
    x.signal = opt_int_at(r, 9);
    x.cpu_seconds = opt_real_at(r, 10);
    x.memory_peak_bytes = opt_int_at(r, 11);
    x.code_bytes = int_at(r, 12);
    x.input_bytes = int_at(r, 13);
    x.stdout_bytes = int_at(r, 14);
    x.stderr_bytes = int_at(r, 15);
    x.output_files = int_at(r, 16);
    x.output_files_bytes = int_at(r, 17);
    x.code = opt_text_at(r, 18);
    x.stdout_text = opt_text_at(r, 19);
    x.stderr_text = opt_text_at(r, 20);
    return x;
}

void append_values(std::vector<Value>& v, const RunRecord& x) {
    v.insert(v.end(), {Value{x.run_id},
                       null_or(x.key_id),
                       null_or(x.session_id),
                       Value{x.language},
                       Value{x.started_us},
                       Value{x.duration_us},
                       Value{x.queue_wait_us},
                       Value{x.status},
                       null_or(x.exit_code),
                       null_or(x.signal),
                       null_or(x.cpu_seconds),
                       null_or(x.memory_peak_bytes),
                       Value{x.code_bytes},
                       Value{x.input_bytes},
                       Value{x.stdout_bytes},
                       Value{x.stderr_bytes},
                       Value{x.output_files},
                       Value{x.output_files_bytes},
                       null_or_blob(x.code),
                       null_or_blob(x.stdout_text),
                       null_or_blob(x.stderr_text)});
}

// "INSERT ... VALUES ($1..$21), ($22..$42), ...": placeholders only; the values are bound.
std::string insert_sql(std::size_t rows) {
    std::string sql = "INSERT INTO runs (" + std::string(kRunColumns) + ") VALUES ";
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        sql += r == 0 ? "(" : ", (";
        for (std::size_t c = 0; c < kRunColumnCount; ++c) {
            sql += (c == 0 ? "$" : ", $") + std::to_string(++n);
        }
        sql += ")";
    }
    return sql + " ON CONFLICT (run_id) DO NOTHING";
}

// The WHERE clause of a listing, built from fixed fragments; each value is a parameter.
std::string where_clause(const RunQuery& q, std::vector<Value>& params) {
    std::string sql = " WHERE 1 = 1";
    auto add = [&](std::string_view fragment, Value v) {
        params.push_back(std::move(v));
        sql += " AND ";
        sql += fragment;
        sql += "$" + std::to_string(params.size());
    };
    if (q.key_id) add("key_id = ", Value{*q.key_id});
    if (q.status) add("status = ", Value{*q.status});
    if (q.session_id) add("session_id = ", Value{*q.session_id});
    return sql;
}

RunQuery scope_only(const std::optional<std::string>& key_scope) {
    RunQuery q;
    q.key_id = key_scope;
    return q;
}

// The start time of the cursor's run, if the scope sees it.
Result<Value> cursor_time(Connection& c, const std::optional<std::string>& key_scope,
                          const std::string& before) {
    std::vector<Value> params;
    std::string sql = "SELECT started_us FROM runs" + where_clause(scope_only(key_scope), params);
    params.emplace_back(before);
    STORE_TRY(auto r, c.query(sql + " AND run_id = $" + std::to_string(params.size()), params));
    if (r.rows.empty()) return StoreError{StoreErrc::invalid, "unknown cursor (before)"};
    return r.rows[0][0];
}

}  // namespace

Result<std::size_t> SqlRepository::insert_runs(std::span<const RunRecord> runs) {
    // Rows per statement: well under PostgreSQL's 65535 parameters and SQLite's 32766.
    constexpr std::size_t kRowsPerStatement = 200;
    return db_.get<std::size_t>(Tx::write, [&](Connection& c) -> Result<std::size_t> {
        std::size_t inserted = 0;
        for (std::size_t at = 0; at < runs.size(); at += kRowsPerStatement) {
            const std::size_t n = std::min(kRowsPerStatement, runs.size() - at);
            std::vector<Value> params;
            params.reserve(n * kRunColumnCount);
            for (std::size_t i = 0; i < n; ++i) append_values(params, runs[at + i]);
            STORE_TRY(auto r, c.query(insert_sql(n), params));
            inserted += static_cast<std::size_t>(r.affected);
        }
        return inserted;
    });
}

Result<RunPage> SqlRepository::list_runs(const RunQuery& q) {
    const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, kMaxPage);
    return db_.get<RunPage>(Tx::read, [&](Connection& c) -> Result<RunPage> {
        std::vector<Value> params;
        std::string sql =
            "SELECT " + std::string(kRunColumns) + " FROM runs" + where_clause(q, params);
        if (q.before) {
            STORE_TRY(Value started, cursor_time(c, q.key_id, *q.before));
            params.push_back(std::move(started));
            params.emplace_back(*q.before);
            const auto t = std::to_string(params.size() - 1), id = std::to_string(params.size());
            sql += " AND (started_us < $" + t + " OR (started_us = $" + t + " AND run_id < $" + id +
                   "))";
        }
        params.emplace_back(static_cast<std::int64_t>(limit + 1));
        sql += " ORDER BY started_us DESC, run_id DESC LIMIT $" + std::to_string(params.size());
        STORE_TRY(auto r, c.query(sql, params));
        RunPage page;
        for (std::size_t i = 0; i < r.rows.size() && i < limit; ++i) {
            page.runs.push_back(run_from_row(r.rows[i]));
        }
        if (r.rows.size() > limit) page.next = page.runs.back().run_id;
        return page;
    });
}

Result<std::optional<RunRecord>> SqlRepository::get_run(
    const std::string& run_id, const std::optional<std::string>& key_scope) {
    return db_.get<std::optional<RunRecord>>(
        Tx::none, [&](Connection& c) -> Result<std::optional<RunRecord>> {
            std::vector<Value> params;
            std::string sql = "SELECT " + std::string(kRunColumns) + " FROM runs" +
                              where_clause(scope_only(key_scope), params);
            params.emplace_back(run_id);
            STORE_TRY(auto r,
                      c.query(sql + " AND run_id = $" + std::to_string(params.size()), params));
            if (r.rows.empty()) return std::optional<RunRecord>{};
            return std::optional<RunRecord>{run_from_row(r.rows[0])};
        });
}

}  // namespace sbx::store
