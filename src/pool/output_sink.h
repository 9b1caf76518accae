// OutputSink: where a run's output chunks go as they are read (a streaming client, a session's
// cell); each write is awaited, so a slow consumer holds the capture back (backpressure).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

namespace sbx::pool {

enum class OutputStream : std::uint8_t { out, err };

class OutputSink {
   public:
    virtual ~OutputSink() = default;
    // Takes one chunk as read from the pipe (any size up to 64 KiB, not line-aligned). The
    // capture reads nothing more from that stream until this completes: a consumer that does
    // not keep up leaves the pipe full, and the program blocks on its next write. Must not
    // throw; cancellation (the run ends) may interrupt it.
    virtual boost::asio::awaitable<void> write(OutputStream stream, std::string_view chunk) = 0;
};

}  // namespace sbx::pool
