// Logging facade: one line per event on stderr (key=value text or one JSON object); thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace sbx::log {

// Log's own enums: log/ does not depend on config/ (main maps LOG_LEVEL and LOG_FORMAT to them).
enum class Level : std::uint8_t { debug, info, warning, error };
enum class Format : std::uint8_t { text, json };

struct Field {
    std::string_view key;
    std::string value;
    bool number = false;  // JSON writes it unquoted
    Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v) {}
    template <class N>
    requires std::is_arithmetic_v<N> Field(std::string_view k, N v)
        : key(k), value(std::to_string(v)), number(true) {}
};

void set_level(Level level);
void set_format(Format format);
[[nodiscard]] bool enabled(Level level);

// text: ts=... level=info event="run finished" req=12 box=3 verdict=ok ...
// json: {"ts":"...","level":"info","event":"run finished","req":12,"box":3,"verdict":"ok"}
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
// The same, for fields assembled at run time (a request's log line).
void write(Level level, std::string_view event, std::span<const Field> fields);

// What an exception says, for a log field: what() of a std::exception, else "unknown exception"
// (and "" for a null pointer).
[[nodiscard]] std::string describe(const std::exception_ptr& e);

// The line write() would print (without the newline); for tests.
[[nodiscard]] std::string format_line(Format format, Level level, std::string_view timestamp,
                                      std::string_view event, std::span<const Field> fields);
[[nodiscard]] inline std::string format_line(Format format, Level level,
                                             std::string_view timestamp, std::string_view event,
                                             std::initializer_list<Field> fields) {
    return format_line(format, level, timestamp, event,
                       std::span<const Field>(fields.begin(), fields.size()));
}

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) {
    write(Level::debug, e, f);
}
inline void info(std::string_view e, std::initializer_list<Field> f = {}) {
    write(Level::info, e, f);
}
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) {
    write(Level::warning, e, f);
}
inline void error(std::string_view e, std::initializer_list<Field> f = {}) {
    write(Level::error, e, f);
}

}  // namespace sbx::log
