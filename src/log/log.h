// Logging facade: one key=value line per event on stderr; thread-safe.
#pragma once

#include <exception>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sbx::log {

using Level = config::LogLevel;

struct Field {
    std::string_view key;
    std::string value;
    Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v) {}
    template <class N>
        requires std::is_arithmetic_v<N>
    Field(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
};

void set_level(Level level);
[[nodiscard]] bool enabled(Level level);

// ts=... level=info event="run finished" req=12 box=3 verdict=ok ...
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
// The same, for fields assembled at run time (a request's log line).
void write(Level level, std::string_view event, std::span<const Field> fields);

// What an exception says, for a log field: what() of a std::exception, else "unknown exception"
// (and "" for a null pointer).
[[nodiscard]] std::string describe(const std::exception_ptr& e);

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::info, e, f); }
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::warning, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::error, e, f); }

}  // namespace sbx::log
