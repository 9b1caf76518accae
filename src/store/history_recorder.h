// HistoryRecorder: run records queued by request handlers without blocking, written in batches
// on the caller's blocking-work executor; a slow or absent database never slows or fails a run.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/repository.h"

namespace sbx::store {

struct RecorderOptions {
    std::size_t queue_capacity = 10'000;       // records waiting (HISTORY_QUEUE); beyond: dropped
    std::size_t batch_size = 500;              // records per write (one transaction)
    bool keep_text = false;                    // HISTORY=full: keep code, stdout, stderr
    std::size_t max_text_bytes = 64 << 10;     // each of them, when kept (HISTORY_FULL_MAX_BYTES)
    std::chrono::milliseconds retry_min{200};  // after a failed write; doubles up to retry_max
    std::chrono::milliseconds retry_max{5000};
};

struct RecorderStatus {
    bool degraded = false;       // the last write failed: records wait (and may be dropped)
    std::string reason;          // why, for /health: "history: cannot write runs: unavailable: ..."
    std::uint64_t queued = 0;    // waiting now, including a batch being written
    std::uint64_t written = 0;   // since start
    std::uint64_t dropped = 0;   // queue full or stopped: lost
    std::uint64_t rejected = 0;  // refused by the database (a value it cannot hold): lost
    std::uint64_t failed_writes = 0;  // batches that failed and were retried
};

// Thread-safe. Keeps no thread: writes and retry timers run on `executor` (the shared
// blocking-work pool). `repository` must outlive this object.
class HistoryRecorder {
   public:
    HistoryRecorder(Repository& repository, boost::asio::any_io_executor executor,
                    RecorderOptions options);
    ~HistoryRecorder();  // stop(0 ms): what is not written by then is dropped
    HistoryRecorder(const HistoryRecorder&) = delete;
    HistoryRecorder& operator=(const HistoryRecorder&) = delete;

    // Queues a record (without code and outputs unless keep_text; those truncated to
    // max_text_bytes). Takes a mutex for a push, never waits for the database. False: dropped.
    bool record(RunRecord run);

    [[nodiscard]] RecorderStatus status() const;

    // Writes what is queued, for at most `deadline`; then drops the rest (counted) and refuses
    // new records. Waits for a write in progress to return (bounded by the statement timeout).
    void stop(std::chrono::milliseconds deadline);

   private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sbx::store
