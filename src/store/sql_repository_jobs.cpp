// SqlRepository, async jobs: create, read, lease (at-least-once), finish, callback delivery.
#include <algorithm>

#include "store/job_columns.h"
#include "store/sql_repository.h"

namespace sbx::store {
namespace {

CallbackState callback_from(std::string_view s) {
    if (s == "pending") return CallbackState::pending;
    if (s == "delivered") return CallbackState::delivered;
    if (s == "failed") return CallbackState::failed;
    return CallbackState::none;
}

std::vector<JobRecord> jobs_from(const QueryResult& r) {
    std::vector<JobRecord> out;
    out.reserve(r.rows.size());
    for (const auto& row : r.rows) out.push_back(job_from_row(row));
    // RETURNING has no order: give the oldest first, as they were picked.
    std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) {
        return std::tie(a.created_us, a.id) < std::tie(b.created_us, b.id);
    });
    return out;
}

// The scope clause: with a key, only that key's jobs are visible.
std::string scoped(std::string sql, const std::optional<std::string>& key_scope,
                   std::vector<Value>& params) {
    if (key_scope) {
        params.emplace_back(*key_scope);
        sql += " AND key_id = $" + std::to_string(params.size());
    }
    return sql;
}

// Runs one of the lease statements ($1 owner, $2 expiry, $3 now, $4 max) in a write transaction.
Result<std::vector<JobRecord>> lease(Database& db, const std::string& sql, const std::string& owner,
                                     std::size_t max, std::int64_t lease_us, TimeUs now) {
    return db.get<std::vector<JobRecord>>(
        Tx::write, [&](Connection& c) -> Result<std::vector<JobRecord>> {
            STORE_TRY(auto r, c.query(sql, {Value{owner}, Value{now + lease_us}, Value{now},
                                            Value{static_cast<std::int64_t>(max)}}));
            return jobs_from(r);
        });
}

}  // namespace

JobRecord job_from_row(const Row& r) {
    JobRecord j;
    j.id = text_at(r, 0);
    j.key_id = opt_text_at(r, 1);
    j.batch_id = opt_text_at(r, 2);
    j.batch_index = int_at(r, 3);
    j.state = job_state_from(text_at(r, 4)).value_or(JobState::failed);
    j.request = text_at(r, 5);
    j.result = opt_text_at(r, 6);
    j.attempts = int_at(r, 7);
    j.lease_owner = opt_text_at(r, 8);
    j.lease_expires_us = opt_int_at(r, 9);
    j.created_us = int_at(r, 10);
    j.updated_us = int_at(r, 11);
    j.finished_us = opt_int_at(r, 12);
    j.callback_url = opt_text_at(r, 13);
    j.callback_state = callback_from(text_at(r, 14));
    j.callback_attempts = int_at(r, 15);
    j.callback_next_us = opt_int_at(r, 16);
    j.callback_error = opt_text_at(r, 17);
    return j;
}

Result<void> SqlRepository::create_jobs(std::span<const JobRecord> jobs) {
    return db_.run(Tx::write, [&](Connection& c) -> Result<void> {
        for (const auto& j : jobs) {
            STORE_TRY_VOID(c.query(
                "INSERT INTO jobs (" + std::string(kJobColumns) +
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                    "$16, $17, $18)",
                {Value{j.id}, null_or(j.key_id), null_or(j.batch_id), Value{j.batch_index},
                 Value{std::string(to_string(j.state))}, Value{Blob{j.request}},
                 null_or_blob(j.result), Value{j.attempts}, null_or(j.lease_owner),
                 null_or(j.lease_expires_us), Value{j.created_us}, Value{j.updated_us},
                 null_or(j.finished_us), null_or(j.callback_url),
                 Value{std::string(to_string(j.callback_state))}, Value{j.callback_attempts},
                 null_or(j.callback_next_us), null_or(j.callback_error)}));
        }
        return {};
    });
}

Result<std::optional<JobRecord>> SqlRepository::get_job(
    const std::string& id, const std::optional<std::string>& key_scope) {
    return db_.get<std::optional<JobRecord>>(
        Tx::none, [&](Connection& c) -> Result<std::optional<JobRecord>> {
            std::vector<Value> params{Value{id}};
            auto sql = scoped("SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = $1",
                              key_scope, params);
            STORE_TRY(auto r, c.query(sql, params));
            if (r.rows.empty()) return std::optional<JobRecord>{};
            return std::optional<JobRecord>{job_from_row(r.rows[0])};
        });
}

Result<std::vector<JobRecord>> SqlRepository::list_batch(
    const std::string& batch_id, const std::optional<std::string>& key_scope) {
    return db_.get<std::vector<JobRecord>>(
        Tx::none, [&](Connection& c) -> Result<std::vector<JobRecord>> {
            std::vector<Value> params{Value{batch_id}};
            auto sql =
                scoped("SELECT " + std::string(kJobColumns) + " FROM jobs WHERE batch_id = $1",
                       key_scope, params);
            STORE_TRY(auto r, c.query(sql + " ORDER BY batch_index", params));
            std::vector<JobRecord> out;
            for (const auto& row : r.rows) out.push_back(job_from_row(row));
            return out;
        });
}

Result<std::vector<JobRecord>> SqlRepository::lease_jobs(const std::string& owner, std::size_t max,
                                                         std::int64_t lease_us, TimeUs now) {
    return lease(db_, sql_.lease_jobs, owner, max, lease_us, now);
}

Result<bool> SqlRepository::renew_job_lease(const std::string& id, const std::string& owner,
                                            TimeUs until) {
    return db_.get<bool>(Tx::none, [&](Connection& c) -> Result<bool> {
        STORE_TRY(auto r, c.query("UPDATE jobs SET lease_expires_us = $1 WHERE id = $2 AND "
                                  "lease_owner = $3 AND state = 'running'",
                                  {Value{until}, Value{id}, Value{owner}}));
        return r.affected == 1;
    });
}

Result<bool> SqlRepository::release_job(const std::string& id, const std::string& owner,
                                        TimeUs now) {
    return db_.get<bool>(Tx::none, [&](Connection& c) -> Result<bool> {
        STORE_TRY(auto r, c.query("UPDATE jobs SET state = 'queued', lease_owner = NULL, "
                                  "lease_expires_us = NULL, attempts = attempts - 1, "
                                  "updated_us = $1 WHERE id = $2 AND lease_owner = $3 AND "
                                  "state = 'running'",
                                  {Value{now}, Value{id}, Value{owner}}));
        return r.affected == 1;
    });
}

Result<bool> SqlRepository::finish_job(const std::string& id, const std::string& owner,
                                       JobState state, const std::string& result, TimeUs now) {
    if (state != JobState::done && state != JobState::failed) {
        return StoreError{StoreErrc::invalid, "a job finishes as done or failed"};
    }
    return db_.get<bool>(Tx::none, [&](Connection& c) -> Result<bool> {
        STORE_TRY(
            auto r,
            c.query(
                "UPDATE jobs SET state = $1, result = $2, finished_us = $3, updated_us = $3, "
                "lease_owner = NULL, lease_expires_us = NULL, "
                "callback_state = CASE WHEN callback_url IS NULL THEN 'none' ELSE 'pending' END, "
                "callback_next_us = CASE WHEN callback_url IS NULL THEN NULL ELSE CAST($3 AS "
                "BIGINT) END "
                "WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
                {Value{std::string(to_string(state))}, Value{Blob{result}}, Value{now}, Value{id},
                 Value{owner}}));
        return r.affected == 1;
    });
}

Result<std::vector<JobRecord>> SqlRepository::lease_callbacks(const std::string& owner,
                                                              std::size_t max,
                                                              std::int64_t lease_us, TimeUs now) {
    return lease(db_, sql_.lease_callbacks, owner, max, lease_us, now);
}

Result<bool> SqlRepository::record_callback(const std::string& id, const std::string& owner,
                                            CallbackState state, std::optional<TimeUs> retry_us,
                                            const std::optional<std::string>& error, TimeUs now) {
    if (state == CallbackState::pending && !retry_us) {
        return StoreError{StoreErrc::invalid, "a pending callback needs its retry time"};
    }
    return db_.get<bool>(Tx::none, [&](Connection& c) -> Result<bool> {
        STORE_TRY(
            auto r,
            c.query(
                "UPDATE jobs SET callback_state = $1, callback_next_us = $2, callback_error = $3, "
                "callback_attempts = callback_attempts + 1, updated_us = $4, lease_owner = NULL, "
                "lease_expires_us = NULL WHERE id = $5 AND lease_owner = $6 AND "
                "callback_state = 'pending'",
                {Value{std::string(to_string(state))},
                 state == CallbackState::pending ? null_or(retry_us) : Value{}, null_or(error),
                 Value{now}, Value{id}, Value{owner}}));
        return r.affected == 1;
    });
}

}  // namespace sbx::store
