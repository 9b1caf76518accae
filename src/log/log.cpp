// Logging facade: formats key=value or JSON lines and writes each with one write(2).
#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sbx::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};

std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warning:
            return "warning";
        case Level::error:
            return "error";
    }
    return "?";
}

void append_text_value(std::string& out, std::string_view v) {
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

// Length of the well-formed UTF-8 sequence at s[i], or 0 when the byte there starts none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
    if (b0 > 0xF4 || len == 0 || i + len > s.size()) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    // The second byte's range excludes overlongs, surrogates and code points above U+10FFFF.
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    }
    return len;
}

// A JSON string: control characters escaped, bytes that are not UTF-8 become U+FFFD so that
// every line stays valid JSON whatever a field carries.
void append_json_string(std::string& out, std::string_view v) {
    out += '"';
    for (std::size_t i = 0; i < v.size();) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\t') {
                out += "\\t";
            } else if (c < 0x20 || c == 0x7F) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        std::size_t len = utf8_sequence(v, i);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        out.append(v.substr(i, len));
        i += len;
    }
    out += '"';
}

bool is_json_number(std::string_view v) {
    // std::to_string's output for finite numbers; "inf"/"nan" are not JSON numbers.
    return !v.empty() && v.find_first_not_of("-0123456789.") == std::string_view::npos;
}

std::string now_timestamp() {
    auto now = std::chrono::system_clock::now();
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[48];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros));
    return ts;
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
void set_format(Format format) { g_format.store(format); }
bool enabled(Level level) { return static_cast<int>(level) >= static_cast<int>(g_level.load()); }

std::string format_line(Format format, Level level, std::string_view timestamp,
                        std::string_view event, std::span<const Field> fields) {
    std::string line;
    if (format == Format::json) {
        line = "{\"ts\":";
        append_json_string(line, timestamp);
        line += ",\"level\":";
        append_json_string(line, level_name(level));
        line += ",\"event\":";
        append_json_string(line, event);
        for (const auto& f : fields) {
            line += ',';
            append_json_string(line, f.key);
            line += ':';
            if (f.number && is_json_number(f.value)) {
                line += f.value;
            } else {
                append_json_string(line, f.value);
            }
        }
        line += '}';
        return line;
    }
    line = "ts=";
    line += timestamp;
    line += " level=";
    line += level_name(level);
    line += " event=";
    append_text_value(line, event);
    for (const auto& f : fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_text_value(line, f.value);
    }
    return line;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
    write(level, event, std::span<const Field>(fields.begin(), fields.size()));
}

void write(Level level, std::string_view event, std::span<const Field> fields) {
    if (!enabled(level)) return;
    std::string line = format_line(g_format.load(), level, now_timestamp(), event, fields);
    line += '\n';
    // One write per line keeps lines whole across threads (stderr is unbuffered).
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sbx::log
