// KeyCache: every active key held in memory (refreshed from the store every 2 s), so that
// checking a key costs a hash and a map lookup, a database hiccup locks nobody out, and
// invalid keys in bulk never reach the database more than a bounded few at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/identity.h"
#include "log/throttle.h"
#include "store/periodic.h"
#include "store/repository.h"

namespace sbx::auth {

struct KeyCacheOptions {
    // A key revoked elsewhere (CLI, another replica) stops working within one refresh plus the
    // refresh's own time: documented as at most 5 s.
    std::chrono::milliseconds refresh_interval{2000};
    // Ids looked up in the store and not found are not looked up again for this long, and at
    // most this many are remembered (the oldest forgotten first).
    std::chrono::milliseconds negative_ttl{2000};
    std::size_t max_negative = 10'000;
    // Lookups of ids missing from the cache (keys made in the last refresh interval) running
    // at once; past that, an unknown id is refused at once.
    unsigned max_concurrent_misses = 2;
};

enum class AuthFailure : std::uint8_t {
    missing,    // no key in the request
    malformed,  // not a key of ours (checked without any lookup)
    unknown,    // no such key, revoked, or wrong secret: one answer for all, as to the client
};

struct AuthResult {
    std::optional<Identity> identity;  // set when the key is valid
    AuthFailure failure = AuthFailure::unknown;
};

struct KeyCacheStatus {
    std::size_t keys = 0;
    bool stale = false;         // the last refresh failed: the previous list is in use
    std::string reason;         // why, for /health
    std::uint64_t refused = 0;  // invalid keys seen since start
};

// Thread-safe.
class KeyCache {
   public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    KeyCache(store::Repository& repository, boost::asio::any_io_executor blocking,
             KeyCacheOptions options = {}, Clock clock = {});
    ~KeyCache();
    KeyCache(const KeyCache&) = delete;
    KeyCache& operator=(const KeyCache&) = delete;

    // Reads every active key now (blocking; at start, before serving) and refreshes every
    // refresh_interval on `blocking` from then on.
    store::Result<void> start();
    void stop();
    // One refresh (blocking); the periodic task calls it.
    store::Result<void> refresh();

    // Checks a presented key (the text from credential_from_headers). A key absent from the
    // cache is looked up in the store on the blocking executor, within the bounds above.
    boost::asio::awaitable<AuthResult> authenticate(std::string presented);
    // The same from memory only: a key missing from the cache is `unknown`.
    AuthResult authenticate_cached(std::string_view presented);

    // Changes made on this replica (admin API), visible at once here.
    void put(const store::KeyRecord& key);
    void remove(const std::string& id);

    [[nodiscard]] KeyCacheStatus status() const;

   private:
    using Snapshot = std::unordered_map<std::string, store::KeyRecord>;
    enum class Lookup : std::uint8_t { hit, miss, negative, busy };
    Lookup find_locked(std::string_view id, std::string_view hash, AuthResult& out);
    AuthResult refuse(AuthFailure why, std::string_view id);
    void remember_missing_locked(const std::string& id);

    store::Repository& repository_;
    boost::asio::any_io_executor blocking_;
    const KeyCacheOptions options_;
    const Clock clock_;
    std::unique_ptr<store::PeriodicTask> refresher_;

    mutable std::mutex mu_;
    std::shared_ptr<const Snapshot> keys_ = std::make_shared<Snapshot>();
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> negative_;
    std::list<std::string> negative_order_;  // oldest first
    unsigned misses_in_flight_ = 0;
    bool stale_ = false;
    std::string reason_;
    std::uint64_t refused_ = 0;
    log::Throttle log_throttle_{std::chrono::seconds(1)};
};

}  // namespace sbx::auth
