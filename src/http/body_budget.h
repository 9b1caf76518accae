// Request body bytes held in memory, bounded by MAX_BUFFERED_BODY_BYTES; who is dropped for room.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

namespace sbx::http {

// Policy: a request body is charged before it is read (its Content-Length, or a chunked body
// step by step as it grows) and keeps its charge until its request is over, so bodies waiting
// for a parser or a run slot count too. When a new charge does not fit, bodies still being
// received that have made no progress for `stalled_after` are dropped, longest-stalled first
// (their connection is closed), until it fits; otherwise the charge is refused and the caller
// waits or answers 503. A body that keeps arriving, or one complete and being handled, is never
// dropped. Thread-safe.
class BodyBudget {
   public:
    using Id = std::uint64_t;            // the connection's id (ConnectionTable::Id)
    using Drop = std::function<void()>;  // closes that connection; must not call back in here
    using Clock = std::chrono::steady_clock;

    struct Charge {
        bool granted = false;
        std::size_t dropped = 0;  // stalled bodies dropped to make room (even if not granted)
    };

    BodyBudget(std::uint64_t capacity, Clock::duration stalled_after)
        : capacity_(capacity), stalled_after_(stalled_after) {}

    // Adds `bytes` to the body of connection `id`. The first charge registers the body as being
    // received (progress: `now`) with `drop`, which is called on this thread, outside the lock,
    // if the body is dropped later (or for stalled bodies dropped by this call).
    [[nodiscard]] Charge charge(Id id, std::uint64_t bytes, const Drop& drop,
                                Clock::time_point now);

    // Bytes of the body arrived at `now`: it is no longer stalled.
    void progress(Id id, Clock::time_point now);

    // The whole body arrived: it keeps its charge and can no longer be dropped.
    void received(Id id);

    // The request is over or the connection gone: its charge is returned. No-op if unknown.
    void release(Id id) noexcept;

    [[nodiscard]] std::uint64_t used() const;
    [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

   private:
    struct Entry {
        std::uint64_t bytes = 0;
        Drop drop;
        Clock::time_point last_progress;
        bool receiving = true;
        std::list<Id>::iterator place;  // in receiving_, while receiving
    };

    const std::uint64_t capacity_;
    const Clock::duration stalled_after_;
    mutable std::mutex mutex_;
    std::uint64_t used_ = 0;
    std::unordered_map<Id, Entry> entries_;
    std::list<Id> receiving_;  // least recent progress first
};

}  // namespace sbx::http
