// Config: every setting of the service, with its default, unit and range.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sbx::config {

enum class RunMode : std::uint8_t { zygote, cold };
enum class CodePolicy : std::uint8_t { off, standard, strict };
enum class NetworkMode : std::uint8_t { none, egress };
enum class LogLevel : std::uint8_t { debug, info, warning, error };
enum class LogFormat : std::uint8_t { text, json };
enum class AuthMode : std::uint8_t { none, api_key };
enum class MetricsAuth : std::uint8_t { none, api_key, admin };
enum class HistoryMode : std::uint8_t { off, metadata, full };

struct Config {
    // --- HTTP ---------------------------------------------------------------------------------
    std::string host = "127.0.0.1";  // HOST: listen address; non-loopback logs a warning (no auth)
    std::uint16_t port = 8000;       // PORT: 0 picks a free port (tests), printed at start
    std::vector<std::string> allowed_origins = {"*"};  // ALLOWED_ORIGINS: CORS, comma-separated
    std::uint64_t max_body_bytes = 64ULL << 20;  // MAX_BODY_SIZE: request body cap (413 beyond)
    std::chrono::seconds http_header_timeout{10};  // HTTP_HEADER_TIMEOUT: request line + headers
    std::chrono::seconds http_read_timeout{30};  // HTTP_READ_TIMEOUT: the body, after its head
    std::chrono::seconds http_idle_timeout{60};  // HTTP_IDLE_TIMEOUT: keep-alive idle close
    unsigned http_threads = 2;                   // HTTP_THREADS: Asio threads (1..64)
    // MAX_CONNECTIONS: open client connections (1..1000000). When full, a new connection takes
    // the place of the one waiting longest for a request head; if none waits, it is closed.
    unsigned max_connections = 4096;
    // MAX_BUFFERED_BODY_BYTES: request body bytes held at once, all connections together (0 = an
    // eighth of physical memory, at least MAX_BODY_SIZE). Beyond it the longest-stalled body
    // still arriving is dropped, or a new body waits briefly, then gets 503 + Retry-After.
    std::uint64_t max_buffered_body_bytes = 0;

    // --- Request limits (names and meaning of the original service) --------------------------
    int sandbox_timeout_s = 30;               // SANDBOX_TIMEOUT: default run timeout, seconds
    int max_timeout_s = 300;                  // MAX_TIMEOUT: largest timeout a request may ask
    std::size_t max_code_length = 100000;     // MAX_CODE_LENGTH: characters of code
    std::uint64_t max_file_size = 10ULL << 20;  // MAX_FILE_SIZE: bytes per input file (decoded)

    // --- Per-run resource limits -------------------------------------------------------------
    std::uint64_t memory_limit_bytes = 512ULL << 20;  // MEMORY_LIMIT: e.g. 512m; cgroup memory
    double cpu_limit_cores = 1.0;                      // CPU_LIMIT: cores (cgroup quota), >0
    std::uint32_t pids_limit = 64;                     // PIDS_LIMIT: processes+threads per run
    std::uint32_t nofile_limit = 256;                  // NOFILE_LIMIT: open files per process
    std::uint64_t workdir_size_bytes = 100ULL << 20;   // WORKDIR_SIZE_LIMIT: work dir tmpfs
    std::uint64_t tmp_size_bytes = 100ULL << 20;       // TMP_SIZE_LIMIT: /tmp tmpfs
    std::uint32_t workdir_max_inodes = 10000;          // WORKDIR_MAX_FILES: inodes per tmpfs
    std::uint64_t max_output_bytes = 1ULL << 20;       // MAX_OUTPUT_SIZE: per stream (stdout, stderr)
    std::uint32_t max_output_files = 1000;             // MAX_OUTPUT_FILES: files returned per run
    std::uint64_t max_output_files_bytes = 50ULL << 20;  // MAX_OUTPUT_FILES_SIZE: their total

    // --- Concurrency --------------------------------------------------------------------------
    unsigned max_concurrent_runs = 0;  // MAX_CONCURRENT_RUNS: 0 = cores x 2
    unsigned max_queued_runs = 64;     // MAX_QUEUED_RUNS: waiting requests beyond that get 429
    std::chrono::seconds queue_timeout{30};   // QUEUE_TIMEOUT: longest wait for a run slot
    std::chrono::seconds shutdown_grace{10};  // SHUTDOWN_GRACE: SIGTERM lets runs finish this long

    // --- Sandbox and runtime -------------------------------------------------------------------
    RunMode run_mode = RunMode::zygote;    // RUN_MODE: zygote (pre-imported) or cold
    unsigned zygotes = 1;                  // ZYGOTES: pre-imported zygotes (forks in parallel)
    unsigned prefork_runs = 2;             // PREFORK_RUNS: runs kept set up ahead, per zygote kind
    std::vector<std::string> preload_modules = {"numpy", "pandas", "matplotlib", "matplotlib.pyplot",
                                                "requests", "bs4"};  // PRELOAD_MODULES
    CodePolicy code_policy = CodePolicy::standard;      // CODE_POLICY: off | standard | strict
    std::filesystem::path python = "/usr/bin/python3";  // PYTHON: interpreter inside the sandbox
    std::filesystem::path runtime_dir;     // RUNTIME_DIR: our Python files; empty = beside binary
    // SANDBOX_UID_BASE: first of the host ids the sandboxes use: the zygotes' own uid (base),
    // one uid per run (base + 1 ...) and the egress gids (base + 4096 ... + 5119).
    std::uint32_t sandbox_uid_base = 1000000;
    // SANDBOX_UIDS: run uids (1..4095); each prepared or running run holds one, so per-user
    // kernel quotas are per run. 0 = 2 x MAX_CONCURRENT_RUNS + 4 x PREFORK_RUNS + 8.
    std::uint32_t sandbox_uids = 0;
    std::string cgroup_prefix = "pysandbox";   // CGROUP_PREFIX: our cgroups and temp names
    bool allow_degraded = false;  // ALLOW_DEGRADED: serve even if an isolation layer is missing
    NetworkMode network_mode = NetworkMode::none;  // NETWORK_MODE: none | egress

    // --- Egress (NETWORK_MODE=egress; docs/SECURITY.md "Network") -----------------------------
    std::vector<std::string> network_allow;  // NETWORK_ALLOW: CIDR or host:port past the block
    std::vector<std::string> network_dns;    // NETWORK_DNS: resolver IPs; empty = the host's
    std::uint64_t network_bandwidth_bytes = 10ULL << 20;  // NETWORK_BANDWIDTH: bytes/s per run, each way
    std::uint32_t network_max_connections = 64;  // NETWORK_MAX_CONNECTIONS: open per run
    // NETWORK_NEW_CONNECTIONS_RATE / _BURST: connections (TCP, and UDP flows) a run may start
    // per second, and at once; bounds the run's entries in the host's conntrack table.
    std::uint32_t network_new_connections_rate = 50;
    std::uint32_t network_new_connections_burst = 100;

    // --- Users: API keys and limits (docs/OPERATIONS.md "Keys and limits") -------------------
    AuthMode auth_mode = AuthMode::none;  // AUTH_MODE: none (open, as before) | api_key
    // METRICS_AUTH: who may read GET /metrics: none (anyone), api_key (any valid key), admin
    MetricsAuth metrics_auth = MetricsAuth::none;
    // ANON_*: limits per client address when no key is used; 0 = no limit (the default).
    double anon_rate_per_s = 0;          // ANON_RATE: requests per second ("5/s", "300/m")
    std::uint32_t anon_burst = 0;        // ANON_BURST: bucket size; 0 = max(1, rate)
    std::uint32_t anon_concurrency = 0;  // ANON_CONCURRENCY: runs in flight per address
    std::uint32_t anon_sessions = 0;     // ANON_SESSIONS: live sessions per address
    double anon_cpu_per_day = 0;         // ANON_CPU_PER_DAY: CPU-seconds per UTC day per address

    // --- Storage: keys, usage, run history, jobs ----------------------------------------------
    std::filesystem::path state_dir = "./state";  // STATE_DIR: SQLite file's dir (made 0700)
    std::string database_url;  // DATABASE_URL: postgresql://...; empty = SQLite in STATE_DIR
    unsigned database_connections = 4;  // DATABASE_CONNECTIONS: connections kept open (1..64)
    HistoryMode history = HistoryMode::metadata;  // HISTORY: off | metadata | full
    unsigned history_retention_days = 30;         // HISTORY_RETENTION_DAYS: 0 = keep forever
    std::uint64_t history_max_rows = 1'000'000;   // HISTORY_MAX_ROWS: 0 = no cap
    unsigned history_queue = 10'000;  // HISTORY_QUEUE: records waiting to be written (drop beyond)
    // HISTORY_FULL_MAX_BYTES: with HISTORY=full, code, stdout and stderr kept per run, each
    std::uint64_t history_full_max_bytes = 64ULL << 10;

    // --- Async jobs and replicas (docs/API.md "Jobs", docs/OPERATIONS.md "Scale-out") -------
    // REPLICA_ID: this server's name among replicas (job leases; later the replica a session
    // id names); empty = the host name.
    std::string replica_id;
    // JOBS_WORKERS: jobs this replica runs at once; 0 = half of MAX_CONCURRENT_RUNS (at least
    // 1), so that interactive /execute keeps the other half.
    unsigned jobs_workers = 0;
    std::chrono::seconds jobs_lease{30};  // JOBS_LEASE: a job's lease, renewed while it runs
    unsigned jobs_max_batch = 1000;       // JOBS_MAX_BATCH: bodies in one POST /jobs (1..1000)
    unsigned jobs_max_attempts = 3;       // JOBS_MAX_ATTEMPTS: leases before a job is failed
    unsigned jobs_retention_hours = 168;  // JOBS_RETENTION_HOURS: finished jobs kept (0 = ever)
    std::chrono::milliseconds jobs_poll{250};  // JOBS_POLL_MS: idle worker's look for new jobs
    // WEBHOOK_SECRET: HMAC key of callbacks of jobs submitted without an API key; empty = such
    // jobs may not ask for a callback. Keys have their own (pysandbox keys).
    std::string webhook_secret;
    std::chrono::seconds callback_timeout{10};  // CALLBACK_TIMEOUT: one delivery, connect to end

    // --- Logging -------------------------------------------------------------------------------
    LogLevel log_level = LogLevel::info;  // LOG_LEVEL: DEBUG | INFO | WARNING | ERROR
    LogFormat log_format = LogFormat::text;  // LOG_FORMAT: text (key=value) | json (one object)

    [[nodiscard]] unsigned effective_max_concurrent_runs() const;
    [[nodiscard]] std::uint64_t effective_max_buffered_body_bytes() const;
    [[nodiscard]] std::uint32_t effective_sandbox_uids() const;
    [[nodiscard]] unsigned effective_jobs_workers() const;
    [[nodiscard]] std::string effective_replica_id() const;
};

// Host ids a server reserves from SANDBOX_UID_BASE on: uids below +4096, egress gids above.
inline constexpr std::uint32_t kSandboxIdBlock = 5120;
inline constexpr std::uint32_t kMaxSandboxUids = 4095;

std::string_view to_string(RunMode m);
std::string_view to_string(CodePolicy p);
std::string_view to_string(NetworkMode m);
std::string_view to_string(LogLevel l);
std::string_view to_string(HistoryMode m);

}  // namespace sbx::config
