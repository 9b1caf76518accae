// SqlRepository, usage shared by replicas (CPU-seconds per day, rate buckets) and retention.
#include "store/sql_repository.h"

namespace sbx::store {
namespace {

// Deletes rows `select_ids` picks (a SELECT of keys, chunk rows at most) until none is left:
// short transactions, so that recording is not held up by a large clean-up.
Result<std::int64_t> delete_in_chunks(Database& db, const std::string& table,
                                      const std::string& key, const std::string& select_ids,
                                      const std::vector<Value>& params) {
    std::int64_t total = 0;
    for (;;) {
        STORE_TRY(auto n,
                  db.get<std::int64_t>(Tx::write, [&](Connection& c) -> Result<std::int64_t> {
                      STORE_TRY(auto r, c.query("DELETE FROM " + table + " WHERE " + key + " IN (" +
                                                    select_ids + ")",
                                                params));
                      return r.affected;
                  }));
        total += n;
        if (n == 0) return total;
    }
}

}  // namespace

Result<std::vector<double>> SqlRepository::add_cpu_usage(std::span<const CpuDelta> deltas) {
    return db_.get<std::vector<double>>(
        Tx::write, [&](Connection& c) -> Result<std::vector<double>> {
            std::vector<double> totals;
            totals.reserve(deltas.size());
            for (const auto& d : deltas) {
                STORE_TRY(auto r, c.query("INSERT INTO cpu_usage AS u (key_id, day, cpu_seconds) "
                                          "VALUES ($1, $2, $3) ON CONFLICT (key_id, day) DO UPDATE "
                                          "SET cpu_seconds = u.cpu_seconds + excluded.cpu_seconds "
                                          "RETURNING cpu_seconds",
                                          {Value{d.key_id}, Value{d.day}, Value{d.seconds}}));
                totals.push_back(r.rows.empty() ? 0 : real_at(r.rows[0], 0));
            }
            return totals;
        });
}

Result<std::map<std::string, double>> SqlRepository::cpu_usage(std::span<const std::string> keys,
                                                               const std::string& day) {
    using Totals = std::map<std::string, double>;
    return db_.get<Totals>(Tx::read, [&](Connection& c) -> Result<Totals> {
        Totals out;
        for (const auto& key : keys) {
            STORE_TRY(auto r, c.query("SELECT cpu_seconds FROM cpu_usage WHERE key_id = $1 AND "
                                      "day = $2",
                                      {Value{key}, Value{day}}));
            if (!r.rows.empty()) out[key] = real_at(r.rows[0], 0);
        }
        return out;
    });
}

Result<RateGrant> SqlRepository::take_rate_tokens(const std::string& bucket, double rate_per_s,
                                                  double burst, std::int64_t want,
                                                  std::optional<TimeUs> now) {
    return db_.get<RateGrant>(Tx::none, [&](Connection& c) -> Result<RateGrant> {
        STORE_TRY(auto r,
                  c.query(sql_.take_rate_tokens, {Value{bucket}, Value{burst}, Value{rate_per_s},
                                                  Value{want}, null_or(now)}));
        if (r.rows.empty()) return StoreError{StoreErrc::internal, "rate bucket: no row"};
        return RateGrant{int_at(r.rows[0], 0), real_at(r.rows[0], 1)};
    });
}

Result<PruneResult> SqlRepository::prune(const RetentionPolicy& p) {
    PruneResult out;
    const Value chunk{p.chunk};
    if (p.runs_before) {
        STORE_TRY(out.runs, delete_in_chunks(db_, "runs", "run_id",
                                             "SELECT run_id FROM runs WHERE started_us < $1 "
                                             "LIMIT $2",
                                             {Value{*p.runs_before}, chunk}));
    }
    if (p.max_rows) {
        // The newest run past the cap; it and everything older go.
        STORE_TRY(auto edge, db_.get<QueryResult>(Tx::none, [&](Connection& c) {
            return c.query(
                "SELECT started_us, run_id FROM runs ORDER BY started_us DESC, "
                "run_id DESC LIMIT 1 OFFSET $1",
                {Value{*p.max_rows}});
        }));
        if (!edge.rows.empty()) {
            STORE_TRY(auto n, delete_in_chunks(db_, "runs", "run_id",
                                               "SELECT run_id FROM runs WHERE started_us < $1 OR "
                                               "(started_us = $1 AND run_id <= $2) LIMIT $3",
                                               {edge.rows[0][0], edge.rows[0][1], chunk}));
            out.runs += n;
        }
    }
    if (p.jobs_before) {
        STORE_TRY(out.jobs, delete_in_chunks(db_, "jobs", "id",
                                             "SELECT id FROM jobs WHERE finished_us < $1 AND "
                                             "callback_state <> 'pending' LIMIT $2",
                                             {Value{*p.jobs_before}, chunk}));
    }
    if (p.usage_before_day) {
        STORE_TRY(auto n,
                  db_.get<std::int64_t>(Tx::write, [&](Connection& c) -> Result<std::int64_t> {
                      STORE_TRY(auto r, c.query("DELETE FROM cpu_usage WHERE day < $1",
                                                {Value{*p.usage_before_day}}));
                      return r.affected;
                  }));
        out.usage_rows += n;
    }
    if (p.buckets_idle_before) {
        STORE_TRY(auto n, delete_in_chunks(db_, "rate_buckets", "bucket",
                                           "SELECT bucket FROM rate_buckets WHERE updated_us < $1 "
                                           "LIMIT $2",
                                           {Value{*p.buckets_idle_before}, chunk}));
        out.usage_rows += n;
    }
    return out;
}

}  // namespace sbx::store
