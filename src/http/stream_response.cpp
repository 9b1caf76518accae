// Streaming responses: the head through Beast's serializer, pieces as chunks, the producer raced
// against the peer's disconnect.
#include "http/stream_response.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <string>

#include "http/peer_watch.h"

namespace sbx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

class ChunkWriter final : public BodyWriter {
   public:
    ChunkWriter(beast::tcp_stream& stream, bool chunked, std::chrono::seconds timeout)
        : stream_(stream), chunked_(chunked), timeout_(timeout) {}

    asio::awaitable<void> write(std::string_view data) override {
        if (data.empty()) co_return;
        if (failed_) throw boost::system::system_error(asio::error::broken_pipe);
        stream_.expires_after(timeout_);
        boost::system::error_code ec;
        if (chunked_) {
            std::tie(ec, std::ignore) = co_await asio::async_write(
                stream_, bhttp::make_chunk(asio::buffer(data.data(), data.size())), kToken);
        } else {
            std::tie(ec, std::ignore) =
                co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), kToken);
        }
        if (ec) {
            failed_ = true;
            throw boost::system::system_error(ec, "streamed body write");
        }
        bytes_ += data.size();
    }
    [[nodiscard]] std::uint64_t bytes_written() const noexcept override { return bytes_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

   private:
    beast::tcp_stream& stream_;
    const bool chunked_;
    const std::chrono::seconds timeout_;
    std::uint64_t bytes_ = 0;
    bool failed_ = false;
};

// The producer's outcome as a value, so that the race below sees a completion, not a throw.
asio::awaitable<std::exception_ptr> produce(const StreamingResponse& reply, ChunkWriter& writer) {
    try {
        co_await reply.produce(writer);
    } catch (...) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

}  // namespace

asio::awaitable<StreamResult> write_streaming_response(beast::tcp_stream& stream,
                                                       StreamingResponse reply,
                                                       const StreamOptions& options) {
    using asio::experimental::awaitable_operators::operator||;
    const bool chunked = options.version >= 11;
    bhttp::response<bhttp::empty_body> head{std::move(reply.head)};
    head.version(options.version);
    head.erase(bhttp::field::content_length);
    head.set(kRequestIdHeader, std::string(options.request_id));
    head.keep_alive(chunked && options.keep_alive);
    if (chunked) head.chunked(true);
    StreamResult result;
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    stream.expires_after(options.write_timeout);
    if (auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kToken); ec) {
        result.end = StreamEnd::write_failed;
        co_return result;
    }
    if (options.head_only) {
        result.keep_alive = head.keep_alive();
        co_return result;
    }
    ChunkWriter writer(stream, chunked, options.write_timeout);
    auto raced = co_await (produce(reply, writer) || wait_peer_gone(stream.socket()));
    result.bytes = writer.bytes_written();
    if (raced.index() == 1) {
        result.end = StreamEnd::client_gone;
        co_return result;
    }
    if (auto failure = std::get<0>(raced)) {
        result.end = writer.failed() ? StreamEnd::write_failed : StreamEnd::producer_failed;
        result.failure = failure;
        co_return result;
    }
    if (chunked) {
        stream.expires_after(options.write_timeout);
        auto [ec, n] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kToken);
        if (ec) {
            result.end = StreamEnd::write_failed;
            co_return result;
        }
    }
    result.keep_alive = head.keep_alive();
    co_return result;
}

}  // namespace sbx::http
