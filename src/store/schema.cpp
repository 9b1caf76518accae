// The schema, as migrations: one entry per version, the same tables in both engines' words.
#include "store/migrations.h"

namespace sbx::store {
namespace {

// Version 1, written once for both engines: SQLite reads BIGINT as INTEGER and DOUBLE PRECISION
// as REAL (its type affinity rules); only the bytes type differs ({bytes}: BLOB or BYTEA).
// Times are BIGINT microseconds since the epoch (UTC); values that may be any bytes (code,
// outputs, request bodies, results) are {bytes}, not TEXT.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    key_hash {bytes} NOT NULL,
    rate_per_s DOUBLE PRECISION NOT NULL,
    burst BIGINT NOT NULL,
    concurrency BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    cpu_seconds_per_day DOUBLE PRECISION NOT NULL,
    network SMALLINT,
    limit_caps TEXT,
    created_us BIGINT NOT NULL,
    revoked_us BIGINT,
    updated_us BIGINT NOT NULL
);
CREATE TABLE cpu_usage (
    key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    cpu_seconds DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (key_id, day)
);
CREATE INDEX cpu_usage_day ON cpu_usage (day);
CREATE TABLE rate_buckets (
    bucket TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    granted BIGINT NOT NULL,
    updated_us BIGINT NOT NULL
);
CREATE INDEX rate_buckets_updated ON rate_buckets (updated_us);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    key_id TEXT,
    session_id TEXT,
    language TEXT NOT NULL,
    started_us BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    queue_wait_us BIGINT NOT NULL,
    status TEXT NOT NULL,
    exit_code BIGINT,
    signal BIGINT,
    cpu_seconds DOUBLE PRECISION,
    memory_peak_bytes BIGINT,
    code_bytes BIGINT NOT NULL,
    input_bytes BIGINT NOT NULL,
    stdout_bytes BIGINT NOT NULL,
    stderr_bytes BIGINT NOT NULL,
    output_files BIGINT NOT NULL,
    output_files_bytes BIGINT NOT NULL,
    code {bytes},
    stdout_text {bytes},
    stderr_text {bytes}
);
CREATE INDEX runs_time ON runs (started_us, run_id);
CREATE INDEX runs_key_time ON runs (key_id, started_us, run_id);
CREATE INDEX runs_session_time ON runs (session_id, started_us, run_id);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    key_id TEXT,
    batch_id TEXT,
    batch_index BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    request {bytes} NOT NULL,
    result {bytes},
    attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_us BIGINT,
    created_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL,
    finished_us BIGINT,
    callback_url TEXT,
    callback_state TEXT NOT NULL CHECK (callback_state IN ('none', 'pending', 'delivered', 'failed')),
    callback_attempts BIGINT NOT NULL,
    callback_next_us BIGINT,
    callback_error TEXT
);
CREATE INDEX jobs_queue ON jobs (state, created_us);
CREATE INDEX jobs_callbacks ON jobs (callback_state, callback_next_us);
CREATE INDEX jobs_batch ON jobs (batch_id, batch_index);
CREATE INDEX jobs_finished ON jobs (finished_us);
)sql";

// Version 2: job callbacks are signed with a secret of the submitting key (a table of its own:
// the key's row and its hash stay as they are; a secret is shown to its holder, a key is not).
constexpr std::string_view kV2 = R"sql(
CREATE TABLE webhook_secrets (
    key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    updated_us BIGINT NOT NULL
);
)sql";

// The statement text for one engine: {bytes} replaced by its type for arbitrary bytes.
std::string for_engine(std::string_view tmpl, Dialect d) {
    std::string out(tmpl);
    const std::string_view bytes = d == Dialect::sqlite ? "BLOB" : "BYTEA";
    for (auto at = out.find("{bytes}"); at != std::string::npos; at = out.find("{bytes}", at)) {
        out.replace(at, 7, bytes);
    }
    return out;
}

std::vector<Migration> make_migrations() {
    std::vector<Migration> m;
    m.push_back({1, "keys, usage, rate buckets, runs, jobs", for_engine(kV1, Dialect::sqlite),
                 for_engine(kV1, Dialect::postgres)});
    m.push_back({2, "webhook secrets", for_engine(kV2, Dialect::sqlite),
                 for_engine(kV2, Dialect::postgres)});
    return m;
}

}  // namespace

std::span<const Migration> all_migrations() {
    static const std::vector<Migration> migrations = make_migrations();
    return migrations;
}

}  // namespace sbx::store
