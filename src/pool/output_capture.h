// OutputCapture: drains one output pipe, keeping at most `limit` bytes, counting the rest and
// handing every chunk to an optional sink as it is read.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "pool/output_sink.h"

namespace sbx::pool {

class OutputCapture {
public:
    // on_flood is called once when the stream has produced `flood_after` bytes in total:
    // the owner ends the run with verdict output_limit. `sink` (may be null) gets every chunk,
    // kept or not, tagged `stream`; each write is awaited before the next read.
    // `read_end` is borrowed: the run owns its pipes (they outlive one program in a long-lived
    // run); the capture stops watching it when destroyed.
    OutputCapture(const boost::asio::any_io_executor& ex, int read_end,
                  std::uint64_t limit, std::uint64_t flood_after, std::function<void()> on_flood,
                  OutputSink* sink = nullptr, OutputStream stream = OutputStream::out);

    // Reads until EOF (every writer closed) or cancellation.
    boost::asio::awaitable<void> drain();

    // After drain() was cancelled: reads what the pipe holds now, without waiting for EOF
    // (writers may still be open: a run answered from its end report). Bounded.
    boost::asio::awaitable<void> take_available();

    [[nodiscard]] const std::string& text() const { return text_; }
    [[nodiscard]] bool truncated() const { return total_ > text_.size(); }
    [[nodiscard]] std::uint64_t total() const { return total_; }
    ~OutputCapture();
    OutputCapture(const OutputCapture&) = delete;
    OutputCapture& operator=(const OutputCapture&) = delete;

private:
    void keep(const char* data, std::size_t n);

    boost::asio::posix::stream_descriptor sd_;
    std::uint64_t limit_;
    std::uint64_t flood_after_;
    std::function<void()> on_flood_;
    OutputSink* sink_;
    OutputStream stream_;
    std::string text_;
    std::uint64_t total_ = 0;
    bool flooded_ = false;
};

}  // namespace sbx::pool
