// Repository: every query the service makes to its store, one method each (keys, usage, run
// history, jobs). Implemented by SqlRepository over SQLite or PostgreSQL; tests of callers may
// use a fake. Methods block (call them on the blocking-work pool, never on an I/O thread) and
// are thread-safe. Errors: StoreError; `unavailable` means "try again later".
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/error.h"
#include "store/types.h"

namespace sbx::store {

struct CpuDelta {
    std::string key_id;  // a key id, or "ip:<address>" for a client without a key
    std::string day;     // UTC day, "2026-12-06"
    double seconds = 0;
};

struct RateGrant {
    std::int64_t granted = 0;  // tokens taken (0..want)
    double tokens_left = 0;    // in the shared bucket after the take
};

struct RetentionPolicy {
    std::optional<TimeUs> runs_before;            // delete runs that started before this
    std::optional<std::int64_t> max_rows;         // then keep at most this many runs (newest)
    std::optional<TimeUs> jobs_before;            // delete finished jobs that finished before this
    std::optional<std::string> usage_before_day;  // delete CPU usage of days before this one
    std::optional<TimeUs> buckets_idle_before;    // delete rate buckets untouched since this
    std::int64_t chunk = 5000;                    // rows per DELETE (short locks)
};

class Repository {
   public:
    virtual ~Repository() = default;

    // --- API keys -------------------------------------------------------------------------
    virtual Result<void> create_key(const KeyRecord& key) = 0;  // conflict: id exists
    virtual Result<std::optional<KeyRecord>> get_key(const std::string& id) = 0;
    virtual Result<std::vector<KeyRecord>> list_keys(bool include_revoked) = 0;
    // not_found: no such key. A revoked key can still be changed (and stays revoked).
    virtual Result<KeyRecord> update_key(const std::string& id, const KeyUpdate& update,
                                         TimeUs now) = 0;
    // not_found: no such key. Revoking twice keeps the first time.
    virtual Result<KeyRecord> revoke_key(const std::string& id, TimeUs now) = 0;

    // --- Usage shared by replicas ---------------------------------------------------------
    // Adds each delta (one transaction); returns each key-day's total after the add, in order.
    virtual Result<std::vector<double>> add_cpu_usage(std::span<const CpuDelta> deltas) = 0;
    // Totals of the given keys on `day` (keys without usage are absent).
    virtual Result<std::map<std::string, double>> cpu_usage(std::span<const std::string> keys,
                                                            const std::string& day) = 0;
    // Token bucket shared by replicas: refills at `rate_per_s` up to `burst` since its last
    // take, then takes up to `want` whole tokens; a new bucket starts full. Time is the
    // database's clock (one clock for every replica) unless `now` is given (tests); a clock
    // that goes back refills nothing and never moves the bucket's time back.
    virtual Result<RateGrant> take_rate_tokens(const std::string& bucket, double rate_per_s,
                                               double burst, std::int64_t want,
                                               std::optional<TimeUs> now = std::nullopt) = 0;

    // --- Run history ----------------------------------------------------------------------
    // Inserts in one transaction; a run_id already present is skipped (a retried batch).
    virtual Result<std::size_t> insert_runs(std::span<const RunRecord> runs) = 0;
    // Newest first (started_us, then run_id); invalid: `before` is not a run the scope sees.
    virtual Result<RunPage> list_runs(const RunQuery& query) = 0;
    // nullopt also when the run belongs to another key than `key_scope` (when set).
    virtual Result<std::optional<RunRecord>> get_run(
        const std::string& run_id, const std::optional<std::string>& key_scope) = 0;
    virtual Result<PruneResult> prune(const RetentionPolicy& policy) = 0;

    // --- Async jobs -----------------------------------------------------------------------
    virtual Result<void> create_jobs(std::span<const JobRecord> jobs) = 0;  // one transaction
    virtual Result<std::optional<JobRecord>> get_job(
        const std::string& id, const std::optional<std::string>& key_scope) = 0;
    // The jobs of a batch, by batch_index; empty when none is visible to key_scope.
    virtual Result<std::vector<JobRecord>> list_batch(
        const std::string& batch_id, const std::optional<std::string>& key_scope) = 0;
    // Takes up to `max` jobs that are queued, or running with an expired lease, oldest first:
    // state running, lease to `owner` until now + lease_us, attempts + 1. Two callers never
    // get the same job while its lease holds (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one
    // write transaction).
    virtual Result<std::vector<JobRecord>> lease_jobs(const std::string& owner, std::size_t max,
                                                      std::int64_t lease_us, TimeUs now) = 0;
    // False when `owner` no longer holds the lease (expired and taken by another).
    virtual Result<bool> renew_job_lease(const std::string& id, const std::string& owner,
                                         TimeUs until) = 0;
    // Gives a job back to the queue untouched (its attempt not counted), if `owner` still holds
    // its lease: the replica could not start it (no run slot, shutting down).
    virtual Result<bool> release_job(const std::string& id, const std::string& owner,
                                     TimeUs now) = 0;
    // Ends the job (done or failed) with its result, if `owner` still holds its lease; a job
    // with a callback URL becomes due for delivery at once.
    virtual Result<bool> finish_job(const std::string& id, const std::string& owner, JobState state,
                                    const std::string& result, TimeUs now) = 0;
    // Takes up to `max` finished jobs whose callback is pending and due, leasing them as above.
    virtual Result<std::vector<JobRecord>> lease_callbacks(const std::string& owner,
                                                           std::size_t max, std::int64_t lease_us,
                                                           TimeUs now) = 0;
    // Records a delivery attempt: delivered, failed (given up), or pending again at retry_us.
    virtual Result<bool> record_callback(const std::string& id, const std::string& owner,
                                         CallbackState state, std::optional<TimeUs> retry_us,
                                         const std::optional<std::string>& error, TimeUs now) = 0;

    // --- Webhook secrets: the HMAC keys of job callbacks, one per API key ------------------
    // not_found: the key has none (never set, or the key does not exist).
    virtual Result<std::string> get_webhook_secret(const std::string& key_id) = 0;
    // Sets or replaces the key's secret (not checked against api_keys: callers do).
    virtual Result<void> set_webhook_secret(const std::string& key_id, const std::string& secret,
                                            TimeUs now) = 0;

    // --- Schema ---------------------------------------------------------------------------
    virtual Result<int> schema_version() = 0;
};

}  // namespace sbx::store
