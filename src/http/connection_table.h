// Open client connections, bounded by MAX_CONNECTIONS, and which of them may make room.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace sbx::http {

// Policy: a connection that is waiting for a request head (just accepted, idle between
// keep-alive requests, or sending its head slowly) holds a place it may lose. When the table
// is full, a new connection takes the place of the one that has waited longest; when every
// connection is past its head (reading a body, running, writing), the new one is refused.
// So stalled or idle sockets can never lock other clients out, and connections with work in
// progress are never cut for newcomers. Thread-safe.
class ConnectionTable {
   public:
    using Id = std::uint64_t;
    using Evict = std::function<void()>;  // closes that connection; must not call back in here

    enum class Admit : std::uint8_t { admitted, admitted_by_eviction, refused };
    struct Admission {
        Admit result = Admit::refused;
        Id id = 0;  // meaningful unless refused
    };

    explicit ConnectionTable(std::size_t capacity) : capacity_(capacity) {}

    // A new connection, waiting for its head. If the table was full, the longest-waiting
    // connection is removed and its `evict` is called on this thread, outside the lock.
    [[nodiscard]] Admission open(Evict evict);

    // The connection has ended; a no-op for an evicted or unknown id.
    void close(Id id) noexcept;

    // true: waiting for a request head again (the newest waiter); false: its head has arrived.
    void set_waiting(Id id, bool waiting);

    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

   private:
    struct Entry {
        Evict evict;
        std::optional<std::list<Id>::iterator> waiting;  // its place in waiters_
    };

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    Id next_id_ = 1;
    std::unordered_map<Id, Entry> entries_;
    std::list<Id> waiters_;  // oldest first
};

}  // namespace sbx::http
