// The settings of async jobs, their callbacks, and replicas sharing one store.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "config/setting_makers.h"

namespace sbx::config {
namespace {

using Err = std::optional<std::string>;

bool id_char(char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
}

Setting replica_id() {
    return Setting{"REPLICA_ID",
                   "this server's name among replicas sharing DATABASE_URL (empty = host name)",
                   [](Config& c, std::string_view t) -> Err {
                       auto v = trim(t);
                       if (v.size() > 64 || !std::all_of(v.begin(), v.end(), id_char)) {
                           return "must be at most 64 letters, digits, '.', '-' or '_'";
                       }
                       c.replica_id = std::string(v);
                       return std::nullopt;
                   },
                   [](const Config& c) { return c.replica_id; }};
}

// Never shown: the effective configuration is logged.
Setting webhook_secret() {
    return Setting{"WEBHOOK_SECRET",
                   "HMAC key signing callbacks of jobs sent without an API key (empty = such "
                   "jobs get no callback)",
                   [](Config& c, std::string_view t) -> Err {
                       auto v = trim(t);
                       if (!v.empty() && v.size() < 16) return "must be at least 16 characters";
                       c.webhook_secret = std::string(v);
                       return std::nullopt;
                   },
                   [](const Config& c) {
                       return c.webhook_secret.empty() ? std::string() : std::string("***");
                   }};
}

Setting poll_ms() {
    return Setting{"JOBS_POLL_MS", "milliseconds between an idle job worker's looks for jobs",
                   [](Config& c, std::string_view t) -> Err {
                       auto v = parse_int(t);
                       if (!v || *v < 10 || *v > 60'000) {
                           return "must be milliseconds from 10 to 60000";
                       }
                       c.jobs_poll = std::chrono::milliseconds{*v};
                       return std::nullopt;
                   },
                   [](const Config& c) { return std::to_string(c.jobs_poll.count()); }};
}

}  // namespace

void add_job_settings(std::vector<Setting>& s) {
    s.push_back(replica_id());
    s.push_back(integer("JOBS_WORKERS",
                        "jobs run at once by this replica (0 = half of MAX_CONCURRENT_RUNS, at "
                        "least 1; the rest stays for /execute)",
                        &Config::jobs_workers, 0, 4096));
    s.push_back(seconds("JOBS_LEASE",
                        "seconds a replica holds a job it runs (renewed meanwhile); a dead "
                        "replica's jobs run again elsewhere after it",
                        &Config::jobs_lease, 5, 3600));
    s.push_back(integer("JOBS_MAX_BATCH", "most bodies in one POST /jobs batch",
                        &Config::jobs_max_batch, 1, 1000));
    s.push_back(integer("JOBS_MAX_ATTEMPTS", "leases a job may take before it is failed",
                        &Config::jobs_max_attempts, 1, 100));
    s.push_back(integer("JOBS_RETENTION_HOURS", "hours finished jobs are kept (0 = forever)",
                        &Config::jobs_retention_hours, 0, 876'000));
    s.push_back(poll_ms());
    s.push_back(webhook_secret());
    s.push_back(seconds("CALLBACK_TIMEOUT", "seconds one callback delivery may take",
                        &Config::callback_timeout, 1, 300));
}

unsigned Config::effective_jobs_workers() const {
    if (jobs_workers != 0) return jobs_workers;
    return std::max(1U, effective_max_concurrent_runs() / 2);
}

std::string Config::effective_replica_id() const {
    if (!replica_id.empty()) return replica_id;
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "replica";
    return name.data();
}

}  // namespace sbx::config
