// The table of settings: names, help, parsers and printers for every Config field.
#include "config/settings.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

#include "config/parse.h"
#include "config/setting_makers.h"

namespace sbx::config {
namespace {

using Err = std::optional<std::string>;

Setting size(std::string_view name, std::string_view help, std::uint64_t Config::*field,
             std::uint64_t lo, std::uint64_t hi) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       auto v = parse_size(t);
                       if (!v || *v < lo || *v > hi) {
                           return "must be a size like 512m or 10485760, from " +
                                  std::to_string(lo) + " to " + std::to_string(hi) + " bytes";
                       }
                       c.*field = *v;
                       return std::nullopt;
                   },
                   [=](const Config& c) { return std::to_string(c.*field); }};
}

Setting boolean(std::string_view name, std::string_view help, bool Config::*field) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       auto v = parse_bool(t);
                       if (!v) return "must be true or false";
                       c.*field = *v;
                       return std::nullopt;
                   },
                   [=](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

Setting list(std::string_view name, std::string_view help, std::vector<std::string> Config::*field) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       c.*field = parse_list(t);
                       return std::nullopt;
                   },
                   [=](const Config& c) {
                       std::string out;
                       for (const auto& s : c.*field) out += (out.empty() ? "" : ",") + s;
                       return out;
                   }};
}

template <class E, std::size_t N>
Setting choice(std::string_view name, std::string_view help, E Config::*field,
               std::array<std::pair<std::string_view, E>, N> values) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       std::string lower;
                       for (char ch : trim(t)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                       for (const auto& [text, value] : values) {
                           if (lower == text) {
                               c.*field = value;
                               return std::nullopt;
                           }
                       }
                       std::string msg = "must be one of:";
                       for (const auto& [text, value] : values) msg += " " + std::string(text);
                       return msg;
                   },
                   [=](const Config& c) {
                       for (const auto& [text, value] : values) {
                           if (c.*field == value) return std::string(text);
                       }
                       return std::string("?");
                   }};
}

Setting path(std::string_view name, std::string_view help, std::filesystem::path Config::*field) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       c.*field = std::string(trim(t));
                       return std::nullopt;
                   },
                   [=](const Config& c) { return (c.*field).string(); }};
}

Setting rate(std::string_view name, std::string_view help, double Config::*field) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       auto v = parse_rate(t);
                       if (!v || *v > 1e9) return "must be a rate like 5/s, 300/m or 0 (no limit)";
                       c.*field = *v;
                       return std::nullopt;
                   },
                   [=](const Config& c) {
                       return c.*field == 0 ? std::string("0") : format_rate(c.*field);
                   }};
}

Setting cpu_seconds(std::string_view name, std::string_view help, double Config::*field) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> Err {
                       auto v = parse_double(t);
                       if (!v || *v < 0 || *v > 1e12) return "must be CPU-seconds, 0 or more";
                       c.*field = *v;
                       return std::nullopt;
                   },
                   [=](const Config& c) {
                       std::ostringstream o;
                       o << c.*field;
                       return o.str();
                   }};
}

// The URL without its password (the effective configuration is logged).
std::string redact_url(std::string_view url) {
    std::string out(url);
    auto scheme = out.find("://");
    auto at = out.find('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
        auto colon = out.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    for (std::size_t pos = out.find("password="); pos != std::string::npos;
         pos = out.find("password=", pos + 1)) {
        auto end = out.find('&', pos);
        out.replace(pos + 9, (end == std::string::npos ? out.size() : end) - pos - 9, "***");
    }
    return out;
}

void add_user_settings(std::vector<Setting>& s) {
    s.push_back(choice("AUTH_MODE", "none (anyone who reaches the port) or api_key (keys CLI)",
                       &Config::auth_mode,
                       std::array{std::pair{std::string_view{"none"}, AuthMode::none},
                                  std::pair{std::string_view{"api_key"}, AuthMode::api_key}}));
    s.push_back(choice("METRICS_AUTH", "who may read /metrics: none (anyone), api_key or admin",
                       &Config::metrics_auth,
                       std::array{std::pair{std::string_view{"none"}, MetricsAuth::none},
                                  std::pair{std::string_view{"api_key"}, MetricsAuth::api_key},
                                  std::pair{std::string_view{"admin"}, MetricsAuth::admin}}));
    s.push_back(rate("ANON_RATE", "requests per second per client address without a key (0 = off)",
                     &Config::anon_rate_per_s));
    s.push_back(integer("ANON_BURST", "burst per client address without a key (0 = max(1, rate))",
                        &Config::anon_burst, 0, 1'000'000));
    s.push_back(integer("ANON_CONCURRENCY", "runs in flight per client address without a key (0 = off)",
                        &Config::anon_concurrency, 0, 100'000));
    s.push_back(integer("ANON_SESSIONS", "live sessions per client address without a key (0 = off)",
                        &Config::anon_sessions, 0, 100'000));
    s.push_back(cpu_seconds("ANON_CPU_PER_DAY",
                            "CPU-seconds per UTC day per client address without a key (0 = off)",
                            &Config::anon_cpu_per_day));
}

void add_store_settings(std::vector<Setting>& s) {
    s.push_back(path("STATE_DIR", "directory of the SQLite database (created with mode 0700)",
                     &Config::state_dir));
    s.push_back(Setting{"DATABASE_URL", "postgresql://user:password@host/db (empty = SQLite in STATE_DIR)",
                        [](Config& c, std::string_view t) -> Err {
                            auto v = trim(t);
                            if (!v.empty() && !v.starts_with("postgresql://") &&
                                !v.starts_with("postgres://")) {
                                return "must be empty or a postgresql:// URL";
                            }
                            c.database_url = std::string(v);
                            return std::nullopt;
                        },
                        [](const Config& c) { return redact_url(c.database_url); }});
    s.push_back(integer("DATABASE_CONNECTIONS", "database connections kept open",
                        &Config::database_connections, 1, 64));
    s.push_back(choice("HISTORY", "run history: off, metadata (no code or output) or full",
                       &Config::history,
                       std::array{std::pair{std::string_view{"off"}, HistoryMode::off},
                                  std::pair{std::string_view{"metadata"}, HistoryMode::metadata},
                                  std::pair{std::string_view{"full"}, HistoryMode::full}}));
    s.push_back(integer("HISTORY_RETENTION_DAYS", "days runs and finished jobs are kept (0 = forever)",
                        &Config::history_retention_days, 0, 36500));
    s.push_back(integer("HISTORY_MAX_ROWS", "most runs kept, oldest deleted first (0 = no cap)",
                        &Config::history_max_rows, 0, 10'000'000'000LL));
    s.push_back(integer("HISTORY_QUEUE", "run records waiting to be written; beyond, dropped and counted",
                        &Config::history_queue, 1, 10'000'000));
    s.push_back(size("HISTORY_FULL_MAX_BYTES", "HISTORY=full: bytes of code, stdout, stderr kept each",
                     &Config::history_full_max_bytes, 0, 1ULL << 30));
}

std::vector<Setting> make_settings() {
    constexpr std::uint64_t kGiB = 1ULL << 30;
    std::vector<Setting> s;
    s.push_back(Setting{"HOST", "listen address (a non-loopback address logs a warning: no auth)",
                        [](Config& c, std::string_view t) -> Err {
                            if (trim(t).empty()) return "must not be empty";
                            c.host = std::string(trim(t));
                            return std::nullopt;
                        },
                        [](const Config& c) { return c.host; }});
    s.push_back(integer("PORT", "listen port (0 = any free port)", &Config::port, 0, 65535));
    s.push_back(list("ALLOWED_ORIGINS", "CORS allowed origins, comma-separated (* = any)",
                     &Config::allowed_origins));
    s.push_back(size("MAX_BODY_SIZE", "largest request body (413 beyond)", &Config::max_body_bytes,
                     1024, 4 * kGiB));
    s.push_back(seconds("HTTP_HEADER_TIMEOUT", "seconds a request's line and headers may take",
                        &Config::http_header_timeout, 1, 3600));
    s.push_back(seconds("HTTP_READ_TIMEOUT", "seconds a request's body may take to arrive",
                        &Config::http_read_timeout, 1, 3600));
    s.push_back(seconds("HTTP_IDLE_TIMEOUT", "seconds an idle keep-alive connection stays open",
                        &Config::http_idle_timeout, 1, 3600));
    s.push_back(integer("HTTP_THREADS", "HTTP worker threads", &Config::http_threads, 1, 64));
    s.push_back(integer("MAX_CONNECTIONS",
                        "open client connections; when full, the one waiting longest for a "
                        "request head is closed for a new one",
                        &Config::max_connections, 1, 1'000'000));
    s.push_back(size("MAX_BUFFERED_BODY_BYTES",
                     "request body bytes held at once by all connections (0 = an eighth of "
                     "physical memory, at least MAX_BODY_SIZE); beyond it stalled bodies are "
                     "dropped, then new ones wait up to 5 s and get 503",
                     &Config::max_buffered_body_bytes, 0, 1024 * kGiB));
    s.push_back(integer("SANDBOX_TIMEOUT", "default run timeout in seconds",
                        &Config::sandbox_timeout_s, 1, 86400));
    s.push_back(integer("MAX_TIMEOUT", "largest timeout a request may ask, seconds",
                        &Config::max_timeout_s, 1, 86400));
    s.push_back(integer("MAX_CODE_LENGTH", "longest code, characters", &Config::max_code_length, 1,
                        100'000'000));
    s.push_back(size("MAX_FILE_SIZE", "largest input file (decoded)", &Config::max_file_size, 1,
                     4 * kGiB));
    s.push_back(size("MEMORY_LIMIT", "memory per run (e.g. 512m)", &Config::memory_limit_bytes,
                     16ULL << 20, 1024 * kGiB));
    s.push_back(Setting{"CPU_LIMIT", "CPU cores per run (e.g. 1 or 0.5)",
                        [](Config& c, std::string_view t) -> Err {
                            auto v = parse_double(t);
                            if (!v || *v < 0.01 || *v > 1024) return "must be a number of cores from 0.01 to 1024";
                            c.cpu_limit_cores = *v;
                            return std::nullopt;
                        },
                        [](const Config& c) {
                            std::ostringstream o;
                            o << c.cpu_limit_cores;
                            return o.str();
                        }});
    s.push_back(integer("PIDS_LIMIT", "processes and threads per run", &Config::pids_limit, 1, 65536));
    s.push_back(integer("NOFILE_LIMIT", "open files per process", &Config::nofile_limit, 16, 65536));
    s.push_back(size("WORKDIR_SIZE_LIMIT", "size of a run's work dir", &Config::workdir_size_bytes,
                     1ULL << 20, 64 * kGiB));
    s.push_back(size("TMP_SIZE_LIMIT", "size of a run's /tmp", &Config::tmp_size_bytes, 1ULL << 20,
                     64 * kGiB));
    s.push_back(integer("WORKDIR_MAX_FILES", "files and dirs per work dir and per /tmp",
                        &Config::workdir_max_inodes, 16, 10'000'000));
    s.push_back(size("MAX_OUTPUT_SIZE", "stdout and stderr kept per stream",
                     &Config::max_output_bytes, 1024, 1 * kGiB));
    s.push_back(integer("MAX_OUTPUT_FILES", "output files returned per run",
                        &Config::max_output_files, 0, 1'000'000));
    s.push_back(size("MAX_OUTPUT_FILES_SIZE", "total size of output files returned per run",
                     &Config::max_output_files_bytes, 0, 16 * kGiB));
    s.push_back(integer("MAX_CONCURRENT_RUNS", "runs at once (0 = cores x 2)",
                        &Config::max_concurrent_runs, 0, 4096));
    s.push_back(integer("MAX_QUEUED_RUNS", "requests waiting for a run slot before 429",
                        &Config::max_queued_runs, 0, 100000));
    s.push_back(seconds("QUEUE_TIMEOUT", "longest wait for a run slot, seconds",
                        &Config::queue_timeout, 1, 3600));
    s.push_back(seconds("SHUTDOWN_GRACE", "seconds runs may finish after SIGTERM",
                        &Config::shutdown_grace, 0, 3600));
    s.push_back(choice("RUN_MODE", "zygote (pre-imported interpreter) or cold (fresh per run)",
                       &Config::run_mode,
                       std::array{std::pair{std::string_view{"zygote"}, RunMode::zygote},
                                  std::pair{std::string_view{"cold"}, RunMode::cold}}));
    s.push_back(integer("ZYGOTES", "pre-imported zygotes", &Config::zygotes, 1, 64));
    s.push_back(integer("PREFORK_RUNS", "sandboxes kept set up ahead of requests, per zygote kind (0 = off)",
                        &Config::prefork_runs, 0, 64));
    s.push_back(list("PRELOAD_MODULES", "modules the zygote imports, comma-separated",
                     &Config::preload_modules));
    s.push_back(choice("CODE_POLICY", "static code check: off, standard or strict",
                       &Config::code_policy,
                       std::array{std::pair{std::string_view{"off"}, CodePolicy::off},
                                  std::pair{std::string_view{"standard"}, CodePolicy::standard},
                                  std::pair{std::string_view{"strict"}, CodePolicy::strict}}));
    s.push_back(path("PYTHON", "Python interpreter used inside the sandbox", &Config::python));
    s.push_back(path("RUNTIME_DIR", "our Python runtime files (empty = beside the binary)",
                     &Config::runtime_dir));
    s.push_back(integer("SANDBOX_UID_BASE",
                        "first of the 5120 host ids the sandboxes use (zygotes, one uid per run, egress gids)",
                        &Config::sandbox_uid_base, 1000, 4'000'000'000LL));
    s.push_back(integer("SANDBOX_UIDS",
                        "host uids for runs, one per prepared or running run (0 = 2 x MAX_CONCURRENT_RUNS + 4 x PREFORK_RUNS + 8)",
                        &Config::sandbox_uids, 0, 4095));
    s.push_back(Setting{"CGROUP_PREFIX", "name prefix of our cgroups and temp dirs",
                        [](Config& c, std::string_view t) -> Err {
                            auto v = trim(t);
                            if (v.empty() || v.size() > 64 ||
                                !std::all_of(v.begin(), v.end(), [](char ch) {
                                    return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
                                           ch == '-' || ch == '_';
                                })) {
                                return "must be 1-64 letters, digits, - or _";
                            }
                            c.cgroup_prefix = std::string(v);
                            return std::nullopt;
                        },
                        [](const Config& c) { return c.cgroup_prefix; }});
    s.push_back(boolean("ALLOW_DEGRADED", "serve even when an isolation layer is missing",
                        &Config::allow_degraded));
    // bridge and host: the original service's Docker network modes, which gave runs the
    // network; an .env written for it keeps that meaning here (egress, host and private
    // ranges still blocked).
    s.push_back(choice("NETWORK_MODE",
                       "none (loopback only) or egress (bridge, host: the original's names for it)",
                       &Config::network_mode,
                       std::array{std::pair{std::string_view{"none"}, NetworkMode::none},
                                  std::pair{std::string_view{"egress"}, NetworkMode::egress},
                                  std::pair{std::string_view{"bridge"}, NetworkMode::egress},
                                  std::pair{std::string_view{"host"}, NetworkMode::egress}}));
    s.push_back(list("NETWORK_ALLOW",
                     "egress: CIDRs or host:port reachable although private or link-local",
                     &Config::network_allow));
    s.push_back(list("NETWORK_DNS", "egress: resolver IPs for runs; empty = the host's resolvers",
                     &Config::network_dns));
    s.push_back(size("NETWORK_BANDWIDTH", "egress: bytes per second per run, in and out each",
                     &Config::network_bandwidth_bytes, 1024, 1ULL << 40));
    s.push_back(integer("NETWORK_MAX_CONNECTIONS", "egress: open connections per run",
                        &Config::network_max_connections, 1, 65535));
    s.push_back(integer("NETWORK_NEW_CONNECTIONS_RATE",
                        "egress: new connections (TCP, UDP flows) per second per run",
                        &Config::network_new_connections_rate, 1, 100000));
    s.push_back(integer("NETWORK_NEW_CONNECTIONS_BURST",
                        "egress: new connections per run at once, before the rate applies",
                        &Config::network_new_connections_burst, 1, 100000));
    s.push_back(choice("LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", &Config::log_level,
                       std::array{std::pair{std::string_view{"debug"}, LogLevel::debug},
                                  std::pair{std::string_view{"info"}, LogLevel::info},
                                  std::pair{std::string_view{"warning"}, LogLevel::warning},
                                  std::pair{std::string_view{"error"}, LogLevel::error}}));
    s.push_back(choice("LOG_FORMAT", "text (key=value) or json (one object per line)",
                       &Config::log_format,
                       std::array{std::pair{std::string_view{"text"}, LogFormat::text},
                                  std::pair{std::string_view{"json"}, LogFormat::json}}));
    add_user_settings(s);
    add_store_settings(s);
    add_job_settings(s);
    return s;
}

}  // namespace

std::span<const Setting> all_settings() {
    static const std::vector<Setting> settings = make_settings();
    return settings;
}

const Setting* find_setting(std::string_view name) {
    for (const auto& s : all_settings()) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::string flag_for(std::string_view name) {
    std::string flag = "--";
    for (char c : name) flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return flag;
}

}  // namespace sbx::config
