// KeyCache: the map of active keys, its refresh, and the bounded path for keys not in it.
#include "auth/key_cache.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/key_format.h"
#include "log/log.h"

namespace sbx::auth {

namespace asio = boost::asio;

namespace {

std::string_view failure_name(AuthFailure f) {
    switch (f) {
        case AuthFailure::missing:
            return "missing";
        case AuthFailure::malformed:
            return "malformed";
        case AuthFailure::unknown:
            return "unknown";
    }
    return "?";
}

}  // namespace

KeyCache::KeyCache(store::Repository& repository, asio::any_io_executor blocking,
                   KeyCacheOptions options, Clock clock)
    : repository_(repository),
      blocking_(std::move(blocking)),
      options_(options),
      clock_(clock ? std::move(clock) : [] { return std::chrono::steady_clock::now(); }) {}

KeyCache::~KeyCache() { stop(); }

store::Result<void> KeyCache::start() {
    auto first = refresh();
    refresher_ = std::make_unique<store::PeriodicTask>(blocking_, options_.refresh_interval,
                                                       [this] { (void)refresh(); });
    refresher_->start(options_.refresh_interval);
    return first;
}

void KeyCache::stop() {
    if (refresher_) refresher_->stop();
}

store::Result<void> KeyCache::refresh() {
    auto listed = repository_.list_keys(false);
    std::lock_guard lock(mu_);
    if (!listed) {
        // Keep serving the keys read last: a database hiccup must not lock everyone out.
        stale_ = true;
        reason_ = "keys: cannot refresh, using the list read before: " + listed.error().render();
        if (auto n = log_throttle_.note()) {
            log::warn("key refresh failed", {{"error", listed.error().render()}, {"times", *n}});
        }
        return std::move(listed).error();
    }
    Snapshot fresh;
    for (auto& k : *listed) fresh.emplace(k.id, std::move(k));
    keys_ = std::make_shared<const Snapshot>(std::move(fresh));
    stale_ = false;
    reason_.clear();
    return {};
}

void KeyCache::put(const store::KeyRecord& key) {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<Snapshot>(*keys_);
    if (key.revoked_us) {
        next->erase(key.id);
    } else {
        (*next)[key.id] = key;
    }
    keys_ = std::move(next);
    negative_.erase(key.id);
}

void KeyCache::remove(const std::string& id) {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<Snapshot>(*keys_);
    next->erase(id);
    keys_ = std::move(next);
}

KeyCache::Lookup KeyCache::find_locked(std::string_view id, std::string_view hash,
                                       AuthResult& out) {
    if (auto it = keys_->find(std::string(id)); it != keys_->end()) {
        if (hashes_equal(it->second.key_hash, hash) && !it->second.revoked_us) {
            out.identity = identity_of(it->second);
        }
        return Lookup::hit;
    }
    if (auto it = negative_.find(std::string(id));
        it != negative_.end() && clock_() - it->second < options_.negative_ttl) {
        return Lookup::negative;
    }
    return misses_in_flight_ >= options_.max_concurrent_misses ? Lookup::busy : Lookup::miss;
}

void KeyCache::remember_missing_locked(const std::string& id) {
    if (negative_.insert_or_assign(id, clock_()).second) negative_order_.push_back(id);
    while (negative_.size() > options_.max_negative && !negative_order_.empty()) {
        negative_.erase(negative_order_.front());
        negative_order_.pop_front();
    }
    if (negative_order_.size() > 2 * options_.max_negative) {  // ids re-added after expiry
        std::erase_if(negative_order_, [&](const std::string& k) { return !negative_.count(k); });
    }
}

AuthResult KeyCache::refuse(AuthFailure why, std::string_view id) {
    std::lock_guard lock(mu_);
    ++refused_;
    // Thousands of bad keys a second make one line a second, with their count.
    if (auto n = log_throttle_.note()) {
        log::warn("API key refused",
                  {{"reason", failure_name(why)}, {"key_id", id}, {"times", *n}});
    }
    return AuthResult{std::nullopt, why};
}

AuthResult KeyCache::authenticate_cached(std::string_view presented) {
    auto id = key_id_of(presented);
    if (!id) return refuse(AuthFailure::malformed, "");
    const auto hash = sha256(presented);
    AuthResult out;
    {
        std::lock_guard lock(mu_);
        (void)find_locked(*id, hash, out);
    }
    if (out.identity) return out;
    return refuse(AuthFailure::unknown, *id);
}

asio::awaitable<AuthResult> KeyCache::authenticate(std::string presented) {
    auto parsed = key_id_of(presented);
    if (!parsed) co_return refuse(AuthFailure::malformed, "");
    const std::string id(*parsed);
    const auto hash = sha256(presented);
    AuthResult out;
    Lookup found = Lookup::hit;
    {
        std::lock_guard lock(mu_);
        found = find_locked(id, hash, out);
        if (found == Lookup::miss) ++misses_in_flight_;
    }
    if (found == Lookup::miss) {
        // A named task, not a temporary in the co_await expression: GCC 12 destroys such
        // temporaries twice (GCC bug 99576).
        auto lookup = [repo = &repository_,
                       id]() -> asio::awaitable<store::Result<std::optional<store::KeyRecord>>> {
            co_return repo->get_key(id);
        };
        auto record = co_await asio::co_spawn(blocking_, std::move(lookup), asio::use_awaitable);
        std::lock_guard lock(mu_);
        --misses_in_flight_;
        if (record && *record && !(*record)->revoked_us) {
            auto next = std::make_shared<Snapshot>(*keys_);
            (*next)[id] = **record;
            keys_ = std::move(next);
            if (hashes_equal((*record)->key_hash, hash)) out.identity = identity_of(**record);
        } else if (record) {
            remember_missing_locked(id);
        }
    }
    if (out.identity) co_return out;
    co_return refuse(AuthFailure::unknown, id);
}

KeyCacheStatus KeyCache::status() const {
    std::lock_guard lock(mu_);
    return KeyCacheStatus{keys_->size(), stale_, reason_, refused_};
}

}  // namespace sbx::auth
