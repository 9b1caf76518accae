// Loading the Config from flags, environment, .env and defaults, and validating it.
#include "config/load.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/parse.h"
#include "config/settings.h"

namespace sbx::config {
namespace {

void apply(Config& cfg, const Setting& s, std::string_view text, std::string_view source,
           std::vector<std::string>& errors) {
    if (auto err = s.apply(cfg, text)) {
        errors.push_back(std::string(s.name) + " (" + std::string(source) + "): " + *err +
                         ", got '" + std::string(text) + "'");
    }
}

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        return std::string(v.substr(1, v.size() - 2));
    }
    auto hash = v.find(" #");
    if (hash != std::string_view::npos) v = trim(v.substr(0, hash));
    return std::string(v);
}

void apply_flags(Config& cfg, const std::vector<std::string>& flags,
                 std::vector<std::string>& errors) {
    for (std::size_t i = 0; i < flags.size(); ++i) {
        std::string_view arg = flags[i];
        std::string value;
        bool has_value = false;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            value = std::string(arg.substr(eq + 1));
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const Setting* found = nullptr;
        for (const auto& s : all_settings()) {
            if (flag_for(s.name) == arg) found = &s;
        }
        if (found == nullptr) {
            errors.push_back("unknown option '" + std::string(arg) + "'");
            continue;
        }
        if (!has_value) {
            if (i + 1 >= flags.size()) {
                errors.push_back(std::string(found->name) + ": option " + std::string(arg) +
                                 " needs a value");
                continue;
            }
            value = flags[++i];
        }
        apply(cfg, *found, value, "flag", errors);
    }
}

}  // namespace

unsigned Config::effective_max_concurrent_runs() const {
    if (max_concurrent_runs != 0) return max_concurrent_runs;
    unsigned cores = std::thread::hardware_concurrency();
    return (cores == 0 ? 1 : cores) * 2;
}

std::uint64_t Config::effective_max_buffered_body_bytes() const {
    if (max_buffered_body_bytes != 0) return max_buffered_body_bytes;
    long pages = ::sysconf(_SC_PHYS_PAGES);
    long page_size = ::sysconf(_SC_PAGESIZE);
    std::uint64_t eighth = 0;
    if (pages > 0 && page_size > 0) {
        eighth = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 8;
    }
    return std::max(eighth, max_body_bytes);
}

std::uint32_t Config::effective_sandbox_uids() const {
    if (sandbox_uids != 0) return sandbox_uids;
    // Holders at once: running runs (and those prepared for them), the stock (PREFORK_RUNS
    // for each of up to four zygote kind x network settings) and runs still being torn down.
    const std::uint64_t n = 2ULL * effective_max_concurrent_runs() + 4ULL * prefork_runs + 8;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, kMaxSandboxUids));
}

std::vector<std::pair<std::string, std::string>> parse_dotenv(const std::string& text,
                                                              std::vector<std::string>& errors) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        auto t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        if (t.starts_with("export ")) t = trim(t.substr(7));
        auto eq = t.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            errors.push_back(".env line " + std::to_string(number) + ": expected NAME=value");
            continue;
        }
        out.emplace_back(std::string(trim(t.substr(0, eq))), unquote(t.substr(eq + 1)));
    }
    return out;
}

Loaded load(const Sources& sources) {
    Loaded result;
    Config& cfg = result.config;
    auto getenv = sources.getenv ? sources.getenv : [](const char* n) -> const char* {
        return std::getenv(n);  // NOLINT(concurrency-mt-unsafe): read at start-up, one thread
    };
    // Lowest first, so that later sources overwrite: .env, environment, flags.
    if (sources.dotenv) {
        std::ifstream file(*sources.dotenv);
        if (file) {
            std::stringstream buf;
            buf << file.rdbuf();
            for (const auto& [name, value] : parse_dotenv(buf.str(), result.errors)) {
                // Unknown names are ignored: .env files are shared with other tools.
                if (const Setting* s = find_setting(name)) apply(cfg, *s, value, ".env", result.errors);
            }
        }
    }
    for (const auto& s : all_settings()) {
        const std::string name(s.name);
        if (const char* v = getenv(name.c_str())) apply(cfg, s, v, "environment", result.errors);
    }
    apply_flags(cfg, sources.flags, result.errors);
    if (result.errors.empty()) {
        auto more = validate(cfg);
        result.errors.insert(result.errors.end(), more.begin(), more.end());
    }
    return result;
}

std::vector<std::string> validate(const Config& cfg) {
    std::vector<std::string> errors;
    if (cfg.sandbox_timeout_s > cfg.max_timeout_s) {
        errors.push_back("SANDBOX_TIMEOUT (" + std::to_string(cfg.sandbox_timeout_s) +
                         ") must not exceed MAX_TIMEOUT (" + std::to_string(cfg.max_timeout_s) + ")");
    }
    if (cfg.max_file_size > cfg.workdir_size_bytes) {
        errors.push_back("MAX_FILE_SIZE must not exceed WORKDIR_SIZE_LIMIT");
    }
    if (cfg.max_body_bytes < cfg.max_code_length) {
        errors.push_back("MAX_BODY_SIZE must be at least MAX_CODE_LENGTH");
    }
    if (cfg.max_buffered_body_bytes != 0 && cfg.max_buffered_body_bytes < cfg.max_body_bytes) {
        errors.push_back("MAX_BUFFERED_BODY_BYTES must be 0 (automatic) or at least MAX_BODY_SIZE");
    }
    if (!cfg.python.is_absolute()) errors.push_back("PYTHON must be an absolute path");
    if (cfg.allowed_origins.empty()) errors.push_back("ALLOWED_ORIGINS must list at least one origin");
    return errors;
}

std::vector<std::string> describe(const Config& cfg) {
    std::vector<std::string> lines;
    for (const auto& s : all_settings()) lines.push_back(std::string(s.name) + "=" + s.show(cfg));
    return lines;
}

std::string env_example() {
    std::string out =
        "# SimplePySandbox settings, with their defaults. Copy to .env and change what you need.\n"
        "# Precedence, highest first: --flag, environment, .env, default.\n";
    const Config defaults;
    for (const auto& s : all_settings()) {
        out += "\n# " + std::string(s.help) + "\n";
        out += std::string(s.name) + "=" + s.show(defaults) + "\n";
    }
    return out;
}

std::string_view to_string(RunMode m) { return m == RunMode::zygote ? "zygote" : "cold"; }
std::string_view to_string(CodePolicy p) {
    switch (p) {
        case CodePolicy::off: return "off";
        case CodePolicy::standard: return "standard";
        case CodePolicy::strict: return "strict";
    }
    return "?";
}
std::string_view to_string(NetworkMode m) { return m == NetworkMode::none ? "none" : "egress"; }
std::string_view to_string(HistoryMode m) {
    switch (m) {
        case HistoryMode::off: return "off";
        case HistoryMode::metadata: return "metadata";
        case HistoryMode::full: return "full";
    }
    return "?";
}
std::string_view to_string(LogLevel l) {
    switch (l) {
        case LogLevel::debug: return "DEBUG";
        case LogLevel::info: return "INFO";
        case LogLevel::warning: return "WARNING";
        case LogLevel::error: return "ERROR";
    }
    return "?";
}

}  // namespace sbx::config
