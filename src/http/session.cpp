// One connection: read with deadlines and limits, call the handler raced against disconnect.
#include "http/session.h"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <exception>
#include <optional>
#include <string>

#include "log/log.h"

namespace sbx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// After an error answer we stop reading requests but drain what the client still sends for
// this long, so closing does not reset the connection before the client has read the answer.
constexpr auto kLingerTime = std::chrono::seconds(2);

}  // namespace

class Session {
   public:
    Session(tcp::socket socket, std::shared_ptr<SessionShared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)) {}
    ~Session() { shared_->connections.close(connection_); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void set_connection(ConnectionTable::Id id) { connection_ = id; }
    [[nodiscard]] tcp::socket::executor_type executor() { return stream_.socket().get_executor(); }

    asio::awaitable<void> run();

    // On the session's strand: the table gave its place to a new connection. Closing the
    // socket ends the pending read, and with it the session.
    void evict() { stream_.close(); }

   private:
    asio::awaitable<bool> wait_for_bytes();
    asio::awaitable<void> on_read_error(const boost::system::error_code& ec);
    asio::awaitable<std::optional<Response>> handle(Request request);
    asio::awaitable<Response> call_handler(Request request, std::string id);
    asio::awaitable<void> wait_client_gone();
    asio::awaitable<bool> write(Response& res);
    asio::awaitable<void> answer_and_close(Response res, std::string_view reason);
    std::string new_request_id() { return std::to_string(shared_->next_request_id++); }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<SessionShared> shared_;
    ConnectionTable::Id connection_ = 0;  // 0 until admitted (close(0) is a no-op)
};

asio::awaitable<void> Session::run() {
    for (bool first = true;; first = false) {
        shared_->connections.set_waiting(connection_, true);  // may be evicted until its head
        if (!first && !co_await wait_for_bytes()) co_return;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(kHeaderLimit);
        parser.body_limit(shared_->max_body_bytes);
        stream_.expires_after(shared_->header_timeout);
        auto [hec, hn] = co_await bhttp::async_read_header(stream_, buffer_, parser, kToken);
        if (hec) co_return co_await on_read_error(hec);
        shared_->connections.set_waiting(connection_, false);
        stream_.expires_after(shared_->read_timeout);
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
            auto [cec, cn] = co_await bhttp::async_write(stream_, cont, kToken);
            if (cec) co_return;
        }
        auto [bec, bn] = co_await bhttp::async_read(stream_, buffer_, parser, kToken);
        if (bec) co_return co_await on_read_error(bec);
        stream_.expires_never();  // a run may take MAX_TIMEOUT; disconnect cancels it instead

        Request request = parser.release();
        bool keep_alive = request.keep_alive();
        bool head = request.method() == bhttp::verb::head;
        unsigned version = request.version();
        std::optional<Response> res = co_await handle(std::move(request));
        if (!res) co_return;  // client gone: handler cancelled, nothing to write
        res->version(version);
        res->keep_alive(keep_alive);
        if (head) {
            auto length = res->body().size();
            res->body().clear();
            res->content_length(length);
        }
        if (!co_await write(*res) || !keep_alive) co_return;
    }
}

// Idle keep-alive gap: wait for the first byte of the next request.
asio::awaitable<bool> Session::wait_for_bytes() {
    if (buffer_.size() > 0) co_return true;
    stream_.expires_after(shared_->idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kToken);
    if (ec) co_return false;
    buffer_.commit(n);
    co_return true;
}

asio::awaitable<void> Session::on_read_error(const boost::system::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
        co_return co_await answer_and_close(
            detail_response(bhttp::status::request_header_fields_too_large,
                            "Request header fields too large"),
            "header_limit");
    }
    if (ec == bhttp::error::body_limit) {
        std::string detail = "Request body too large (maximum " +
                             std::to_string(shared_->max_body_bytes) + " bytes)";
        co_return co_await answer_and_close(
            detail_response(bhttp::status::payload_too_large, detail), "body_limit");
    }
    bool http_syntax = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
    if (http_syntax && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        co_return co_await answer_and_close(
            detail_response(bhttp::status::bad_request, "Invalid HTTP request"), ec.message());
    }
    // end of stream, deadline (beast::error::timeout), reset: just close.
    if (ec != bhttp::error::end_of_stream)
        log::debug("connection closed", {{"reason", ec.message()}});
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
}

asio::awaitable<void> Session::answer_and_close(Response res, std::string_view reason) {
    std::string id = new_request_id();
    log::info("request", {{"req", id}, {"status", res.result_int()}, {"reason", reason}});
    res.set(kRequestIdHeader, id);
    res.keep_alive(false);
    if (!co_await write(res)) co_return;
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    std::array<char, kReadChunk> sink{};
    for (;;) {
        auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), kToken);
        if (rec) break;
    }
    stream_.socket().close(ec);
}

asio::awaitable<std::optional<Response>> Session::handle(Request request) {
    using asio::experimental::awaitable_operators::operator||;
    std::string id = new_request_id();
    request.set(kRequestIdHeader, id);
    auto result = co_await (call_handler(std::move(request), id) || wait_client_gone());
    if (result.index() == 1) {
        log::debug("client disconnected during request", {{"req", id}});
        co_return std::nullopt;
    }
    Response res = std::move(std::get<0>(result));
    res.set(kRequestIdHeader, id);
    co_return res;
}

// The request boundary: an exception from the handler becomes a 500 and an error log line.
asio::awaitable<Response> Session::call_handler(Request request, std::string id) {
    std::exception_ptr failure;
    try {
        co_return co_await shared_->handler(std::move(request));
    } catch (...) {
        failure = std::current_exception();
    }
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
        std::rethrow_exception(failure);  // we lost the race to a disconnect; nobody reads this
    }
    std::string what = "unknown exception";
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
        what = "unknown exception";
    }
    log::error("request failed", {{"req", id}, {"error", what}});
    co_return detail_response(bhttp::status::internal_server_error, "Internal server error");
}

// Completes when the peer has closed or reset the connection (readable + MSG_PEEK == 0).
asio::awaitable<void> Session::wait_client_gone() {
    auto& socket = stream_.socket();
    for (;;) {
        auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kToken);
        if (ec) co_return;  // cancelled (the handler finished) or a socket error
        char byte = 0;
        ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) co_return;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return;
        if (n > 0) {
            // A pipelined next request: we cannot watch further without consuming it; wait
            // until the handler finishes (this branch is then cancelled).
            asio::steady_timer forever(socket.get_executor(),
                                       asio::steady_timer::time_point::max());
            co_await forever.async_wait(kToken);
            co_return;
        }
    }
}

asio::awaitable<bool> Session::write(Response& res) {
    stream_.expires_after(shared_->read_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, res, kToken);
    if (ec) {
        log::debug("write failed", {{"error", ec.message()}});
        co_return false;
    }
    co_return true;
}

SessionStart admit_session(tcp::socket socket, std::shared_ptr<SessionShared> shared) {
    auto session = std::make_shared<Session>(std::move(socket), shared);
    std::weak_ptr<Session> weak = session;
    auto admission = shared->connections.open([weak, strand = session->executor()] {
        asio::post(strand, [weak] {
            if (auto s = weak.lock()) s->evict();  // gone already: nothing to close
        });
    });
    if (admission.result == ConnectionTable::Admit::refused) return {nullptr, {}, admission};
    session->set_connection(admission.id);
    auto strand = session->executor();
    return {std::move(session), std::move(strand), admission};
}

asio::awaitable<void> run_session(std::shared_ptr<Session> session) { co_await session->run(); }

}  // namespace sbx::http
