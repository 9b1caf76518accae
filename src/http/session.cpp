// One connection, reading side: requests read with deadlines, limits and the body budget.
#include "http/session.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <functional>
#include <optional>
#include <string>

#include "http/framing.h"
#include "http/session_impl.h"
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
// A chunked body is charged to the body budget in steps of this size as it grows.
constexpr std::uint64_t kChunkedStep = std::uint64_t{1} << 20;
// How long a new body waits for room in MAX_BUFFERED_BODY_BYTES before 503, checking this
// often (a body may become droppable by stalling meanwhile), and the Retry-After it gets.
constexpr auto kBodyBudgetWait = std::chrono::seconds(5);
constexpr auto kBodyBudgetRetry = std::chrono::milliseconds(50);
constexpr auto kBodyBudgetRetryAfter = std::chrono::seconds(2);

}  // namespace

Session::Session(tcp::socket socket, std::shared_ptr<SessionShared> shared)
    : stream_(std::move(socket)), shared_(std::move(shared)) {
    boost::system::error_code ignored;
    peer_ = stream_.socket().remote_endpoint(ignored);
}

Session::~Session() {
    shared_->bodies.release(connection_);
    shared_->connections.close(connection_);
}

void Session::evict() {
    if (!taken_over_) stream_.close();
}

asio::awaitable<void> Session::run() {
    for (bool first = true;; first = false) {
        shared_->connections.set_waiting(connection_, true);  // may be evicted until its head
        if (!first && !co_await wait_for_bytes()) co_return;
        std::optional<Request> request = co_await read_request();
        if (!request) co_return;  // an error was answered, or the client left
        if (!co_await serve(std::move(*request))) co_return;
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

asio::awaitable<std::optional<Request>> Session::read_request() {
    Parser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(shared_->max_body_bytes);
    stream_.expires_after(shared_->header_timeout);
    if (!co_await read_head(parser)) co_return std::nullopt;
    shared_->connections.set_waiting(connection_, false);
    if (auto problem = framing_problem(parser.get())) {
        std::string detail = "Invalid HTTP request: " + std::string(*problem);
        co_await answer_and_close(detail_response(bhttp::status::bad_request, detail), *problem);
        co_return std::nullopt;
    }
    if (!co_await read_body(parser)) co_return std::nullopt;
    stream_.expires_never();  // a run may take MAX_TIMEOUT; disconnect cancels it instead
    co_return parser.release();
}

// Reads until the head is complete (checking it on the way, see HeadScanner), then parses it.
asio::awaitable<bool> Session::read_head(Parser& parser) {
    HeadScanner scanner;
    for (;;) {
        std::string_view received(static_cast<const char*>(buffer_.data().data()), buffer_.size());
        auto seen = scanner.scan(received);
        if (seen.problem != HeadProblem::none) {
            co_await on_head_problem(seen.problem);
            co_return false;
        }
        if (seen.complete) break;
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kToken);
        if (ec) {
            if (ec == asio::error::eof) ec = bhttp::error::end_of_stream;  // as Beast says it
            co_await on_read_error(ec);
            co_return false;
        }
        buffer_.commit(n);
    }
    boost::system::error_code ec;
    buffer_.consume(parser.put(buffer_.data(), ec));
    if (!ec && !parser.is_header_done()) ec = bhttp::error::bad_line_ending;  // cannot happen
    if (ec) {
        co_await on_read_error(ec);
        co_return false;
    }
    co_return true;
}

// Charges the body to the budget, answers 100-continue and reads the body, charging a chunked
// body as it grows.
asio::awaitable<bool> Session::read_body(Parser& parser) {
    std::uint64_t charged = 0;
    if (!parser.is_done()) {
        charged = parser.content_length().value_or(kChunkedStep);
        if (!co_await reserve_body(charged)) co_return false;
    }
    stream_.expires_after(shared_->read_timeout);
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        auto [cec, cn] = co_await bhttp::async_write(stream_, cont, kToken);
        if (cec) co_return false;
    }
    while (!parser.is_done()) {
        auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser, kToken);
        if (ec) {
            co_await on_read_error(ec);
            co_return false;
        }
        shared_->bodies.progress(connection_, std::chrono::steady_clock::now());
        std::uint64_t held = parser.get().body().size();
        if (held > charged) {  // chunked: no declared length
            std::uint64_t step = (held - charged + kChunkedStep - 1) / kChunkedStep * kChunkedStep;
            if (!co_await reserve_body(step)) co_return false;
            charged += step;
        }
    }
    shared_->bodies.received(connection_);
    co_return true;
}

// Waits up to kBodyBudgetWait for MAX_BUFFERED_BODY_BYTES to have room for `bytes` more;
// false: answered 503 with Retry-After (and closed).
asio::awaitable<bool> Session::reserve_body(std::uint64_t bytes) {
    auto give_up = std::chrono::steady_clock::now() + kBodyBudgetWait;
    asio::steady_timer retry(executor());
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        auto charge = shared_->bodies.charge(connection_, bytes, close_, now);
        for (std::size_t i = 0; i < charge.dropped; ++i) {
            if (auto n = shared_->bodies_dropped.note(now)) {
                log::warn("stalled request bodies dropped: MAX_BUFFERED_BODY_BYTES reached",
                          {{"limit", shared_->bodies.capacity()}, {"dropped", *n}});
            }
        }
        if (charge.granted) co_return true;
        if (now >= give_up) break;
        retry.expires_after(kBodyBudgetRetry);
        co_await retry.async_wait(kToken);
    }
    if (auto n = shared_->bodies_refused.note()) {
        log::warn("request bodies refused: MAX_BUFFERED_BODY_BYTES reached",
                  {{"limit", shared_->bodies.capacity()}, {"refused", *n}});
    }
    Response res = detail_response(bhttp::status::service_unavailable,
                                   "Server busy: too many request bodies in memory; retry later");
    res.set(bhttp::field::retry_after, std::to_string(kBodyBudgetRetryAfter.count()));
    co_await answer_and_close(std::move(res), "body_budget");
    co_return false;
}

asio::awaitable<void> Session::on_head_problem(HeadProblem problem) {
    switch (problem) {
        case HeadProblem::request_line_too_long:
            co_return co_await answer_and_close(
                detail_response(bhttp::status::uri_too_long, "Request target too long"),
                "request_line_limit");
        case HeadProblem::head_too_long:
            co_return co_await on_read_error(bhttp::error::header_limit);
        case HeadProblem::bare_lf:
            co_return co_await on_read_error(bhttp::error::bad_line_ending);
        case HeadProblem::obs_fold:
        case HeadProblem::none:
            break;
    }
    co_await answer_and_close(detail_response(bhttp::status::bad_request, "Invalid HTTP request"),
                              "obsolete line folding");
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
    std::function<void()> close = [weak, strand = session->executor()] {
        asio::post(strand, [weak] {
            if (auto s = weak.lock()) s->evict();  // gone already: nothing to close
        });
    };
    auto admission = shared->connections.open(close);
    if (admission.result == ConnectionTable::Admit::refused) return {nullptr, {}, admission};
    session->set_connection(admission.id, std::move(close));
    auto strand = session->executor();
    return {std::move(session), std::move(strand), admission};
}

asio::awaitable<void> run_session(std::shared_ptr<Session> session) { co_await session->run(); }

}  // namespace sbx::http
