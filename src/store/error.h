// Store errors as values: what kind of failure (for callers' decisions) and a message (for logs).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbx::store {

enum class StoreErrc : std::uint8_t {
    unavailable,     // cannot reach the database (down, restarting, connection lost): retry later
    corrupt,         // the database file is damaged or not a database
    read_only,       // the database or its directory cannot be written
    schema_too_new,  // the database was migrated by a newer pysandbox
    invalid,         // a value the database cannot hold (NUL in text, bad UTF-8, out of range)
    conflict,        // a unique key already exists
    not_found,       // no such row (or not visible to the caller)
    internal,        // anything else the database reported
};

std::string_view to_string(StoreErrc code) noexcept;

struct StoreError {
    StoreErrc code = StoreErrc::internal;
    std::string message;  // never holds secrets (passwords, key hashes)

    // "unavailable: connection to server ... refused"
    [[nodiscard]] std::string render() const;
};

template <class T = void>
using Result = boost::system::result<T, StoreError>;

// Needed by Result<T>::value(): throws std::runtime_error with render().
[[noreturn]] void throw_exception_from_error(const StoreError& e,
                                             const boost::source_location& loc);

}  // namespace sbx::store

// STORE_TRY(auto x, expr) / STORE_TRY_VOID(expr): propagate a failed Result to the caller.
#define STORE_CONCAT_INNER(a, b) a##b
#define STORE_CONCAT(a, b) STORE_CONCAT_INNER(a, b)
#define STORE_TRY_IMPL(tmp, decl, expr)      \
    auto tmp = (expr);                       \
    if (!tmp) return std::move(tmp).error(); \
    decl = std::move(*tmp)
#define STORE_TRY(decl, expr) STORE_TRY_IMPL(STORE_CONCAT(store_try_, __LINE__), decl, expr)
#define STORE_TRY_VOID_IMPL(tmp, expr)           \
    do {                                         \
        auto tmp = (expr);                       \
        if (!tmp) return std::move(tmp).error(); \
    } while (0)
#define STORE_TRY_VOID(expr) STORE_TRY_VOID_IMPL(STORE_CONCAT(store_try_void_, __LINE__), expr)
