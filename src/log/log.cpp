// Logging facade: formats key=value lines and writes each with one write(2).
#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sbx::log {
namespace {

std::atomic<Level> g_level{Level::info};

std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warning: return "warning";
        case Level::error: return "error";
    }
    return "?";
}

void append_value(std::string& out, std::string_view v) {
    bool quote = v.empty() || v.find_first_of(" \"=\t\n") != std::string_view::npos;
    if (!quote) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    out += '"';
}

}  // namespace

std::string describe(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

void set_level(Level level) { g_level.store(level); }
bool enabled(Level level) { return static_cast<int>(level) >= static_cast<int>(g_level.load()); }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
    write(level, event, std::span<const Field>(fields.begin(), fields.size()));
}

void write(Level level, std::string_view event, std::span<const Field> fields) {
    if (!enabled(level)) return;
    auto now = std::chrono::system_clock::now();
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[48];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros));
    std::string line = "ts=";
    line += ts;
    line += " level=";
    line += level_name(level);
    line += " event=";
    append_value(line, event);
    for (const auto& f : fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_value(line, f.value);
    }
    line += '\n';
    // One write per line keeps lines whole across threads (stderr is unbuffered).
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sbx::log
