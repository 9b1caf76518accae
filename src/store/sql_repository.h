// SqlRepository: the Repository over a Database (SQLite or PostgreSQL); the few statements that
// differ between the engines are chosen once, at construction.
#pragma once

#include <memory>
#include <string>

#include "store/repository.h"
#include "store/sql.h"

namespace sbx::store {

// Statements whose text differs between the engines.
struct DialectSql {
    std::string take_rate_tokens;  // $1 bucket, $2 burst, $3 rate, $4 want, $5 now or NULL
    std::string lease_jobs;        // $1 owner, $2 expires, $3 now, $4 max
    std::string lease_callbacks;   // $1 owner, $2 expires, $3 now, $4 max
};
const DialectSql& dialect_sql(Dialect d);

class SqlRepository : public Repository {
   public:
    // db must be migrated (migrate()) and outlive this.
    explicit SqlRepository(Database& db) : db_(db), sql_(dialect_sql(db.dialect())) {}

    Result<void> create_key(const KeyRecord& key) override;
    Result<std::optional<KeyRecord>> get_key(const std::string& id) override;
    Result<std::vector<KeyRecord>> list_keys(bool include_revoked) override;
    Result<KeyRecord> update_key(const std::string& id, const KeyUpdate& update,
                                 TimeUs now) override;
    Result<KeyRecord> revoke_key(const std::string& id, TimeUs now) override;

    Result<std::vector<double>> add_cpu_usage(std::span<const CpuDelta> deltas) override;
    Result<std::map<std::string, double>> cpu_usage(std::span<const std::string> keys,
                                                    const std::string& day) override;
    Result<RateGrant> take_rate_tokens(const std::string& bucket, double rate_per_s, double burst,
                                       std::int64_t want, std::optional<TimeUs> now) override;

    Result<std::size_t> insert_runs(std::span<const RunRecord> runs) override;
    Result<RunPage> list_runs(const RunQuery& query) override;
    Result<std::optional<RunRecord>> get_run(const std::string& run_id,
                                             const std::optional<std::string>& key_scope) override;
    Result<PruneResult> prune(const RetentionPolicy& policy) override;

    Result<void> create_jobs(std::span<const JobRecord> jobs) override;
    Result<std::optional<JobRecord>> get_job(const std::string& id,
                                             const std::optional<std::string>& key_scope) override;
    Result<std::vector<JobRecord>> list_batch(const std::string& batch_id,
                                              const std::optional<std::string>& key_scope) override;
    Result<std::vector<JobRecord>> lease_jobs(const std::string& owner, std::size_t max,
                                              std::int64_t lease_us, TimeUs now) override;
    Result<bool> renew_job_lease(const std::string& id, const std::string& owner,
                                 TimeUs until) override;
    Result<bool> release_job(const std::string& id, const std::string& owner,
                             TimeUs now) override;
    Result<bool> finish_job(const std::string& id, const std::string& owner, JobState state,
                            const std::string& result, TimeUs now) override;
    Result<std::vector<JobRecord>> lease_callbacks(const std::string& owner, std::size_t max,
                                                   std::int64_t lease_us, TimeUs now) override;
    Result<bool> record_callback(const std::string& id, const std::string& owner,
                                 CallbackState state, std::optional<TimeUs> retry_us,
                                 const std::optional<std::string>& error, TimeUs now) override;

    Result<std::string> get_webhook_secret(const std::string& key_id) override;
    Result<void> set_webhook_secret(const std::string& key_id, const std::string& secret,
                                    TimeUs now) override;

    Result<int> schema_version() override;

    [[nodiscard]] Database& database() { return db_; }

   private:
    Database& db_;
    const DialectSql& sql_;
};

}  // namespace sbx::store
