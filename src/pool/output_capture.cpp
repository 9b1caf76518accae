// OutputCapture: bounded, concurrent draining of a run's stdout or stderr pipe.
#include "pool/output_capture.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sbx::pool {
namespace asio = boost::asio;

OutputCapture::OutputCapture(const asio::any_io_executor& ex, int read_end,
                             std::uint64_t limit, std::uint64_t flood_after,
                             std::function<void()> on_flood, OutputSink* sink,
                             OutputStream stream)
    : sd_(ex, read_end),
      limit_(limit),
      flood_after_(flood_after),
      on_flood_(std::move(on_flood)),
      sink_(sink),
      stream_(stream) {}

asio::awaitable<void> OutputCapture::drain() {
    // A chunk read is always handed to the sink, even when the drain is being cancelled: the
    // check comes after the delivery, never between the read and it.
    co_await asio::this_coro::throw_if_cancelled(false);
    std::string chunk(64 * 1024, '\0');
    for (;;) {
        const auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return;
        auto [ec, n] = co_await sd_.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
        if (n > 0) {
            keep(chunk.data(), n);
            if (sink_ != nullptr) co_await sink_->write(stream_, std::string_view(chunk.data(), n));
        }
        if (ec) co_return;  // EOF, or the pipe was closed / the wait cancelled
    }
}

asio::awaitable<void> OutputCapture::take_available() {
    if (!sd_.is_open()) co_return;
    boost::system::error_code ec;
    sd_.non_blocking(true, ec);
    std::string chunk(64 * 1024, '\0');
    // Bounded: the writers are dead or dying, but a pipe can still be refilled while we read.
    for (int reads = 0; reads < 64 && !ec; ++reads) {
        const auto n = sd_.read_some(asio::buffer(chunk), ec);  // would_block once empty
        if (n > 0) {
            keep(chunk.data(), n);
            if (sink_ != nullptr) co_await sink_->write(stream_, std::string_view(chunk.data(), n));
        }
    }
}

void OutputCapture::keep(const char* data, std::size_t n) {
    total_ += n;
    if (text_.size() < limit_) {
        const auto kept = std::min<std::uint64_t>(n, limit_ - text_.size());
        text_.append(data, static_cast<std::size_t>(kept));
    }
    if (!flooded_ && total_ >= flood_after_) {
        flooded_ = true;
        if (on_flood_) on_flood_();
    }
}

OutputCapture::~OutputCapture() {
    boost::system::error_code ec;
    sd_.cancel(ec);
    (void)sd_.release();  // the run's fd: deregistered, not closed
}

}  // namespace sbx::pool
