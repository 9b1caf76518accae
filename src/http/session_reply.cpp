// One connection, answering side: the handler raced against disconnect, its reply written (whole,
// streamed or a WebSocket), and the request's one log line.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <vector>

#include "http/boundary.h"
#include "http/peer_watch.h"
#include "http/router.h"
#include "http/session_impl.h"
#include "http/stream_response.h"
#include "http/websocket_session.h"

namespace sbx::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

std::string_view to_string(StreamEnd end) {
    switch (end) {
        case StreamEnd::complete:
            return "complete";
        case StreamEnd::client_gone:
            return "client_gone";
        case StreamEnd::write_failed:
            return "write_failed";
        case StreamEnd::producer_failed:
            return "producer_failed";
    }
    return "?";
}

std::string_view to_string(WebSocketEnd end) {
    switch (end) {
        case WebSocketEnd::closed:
            return "closed";
        case WebSocketEnd::handshake_failed:
            return "handshake_failed";
        case WebSocketEnd::run_failed:
            return "run_failed";
    }
    return "?";
}

// The handler's reply in an optional: operator|| would merge a variant's alternatives with its
// own, and a Reply is a variant.
asio::awaitable<std::optional<Reply>> boxed(asio::awaitable<Reply> reply) {
    co_return co_await std::move(reply);
}

}  // namespace

asio::awaitable<bool> Session::serve(Request request) {
    RequestContext ctx;
    ctx.id = new_request_id();
    ctx.peer = peer_;
    ctx.start = std::chrono::steady_clock::now();
    ctx.start_time = std::chrono::system_clock::now();
    RequestLine line{std::string(request.method_string()),
                     std::string(Router::path_of(request.target())),
                     request.version(),
                     request.keep_alive(),
                     request.method() == bhttp::verb::head,
                     std::nullopt};
    if (boost::beast::websocket::is_upgrade(request)) line.upgrade = request.base();
    request.set(kRequestIdHeader, ctx.id);
    std::optional<Reply> reply = co_await handle(ctx, std::move(request));
    shared_->bodies.release(connection_);  // the handler is done with the body
    if (!reply) {
        log_request(ctx, line, 499);  // the client went away: the handler was cancelled
        co_return false;
    }
    if (auto* res = std::get_if<Response>(&*reply)) {
        co_return co_await send_response(ctx, line, std::move(*res));
    }
    if (auto* stream = std::get_if<StreamingResponse>(&*reply)) {
        co_return co_await send_stream(ctx, line, std::move(*stream));
    }
    co_return co_await take_over(ctx, line, std::move(std::get<WebSocketTakeover>(*reply)));
}

// The handler (through the request boundary) raced against the client going away.
asio::awaitable<std::optional<Reply>> Session::handle(RequestContext& ctx, Request request) {
    using asio::experimental::awaitable_operators::operator||;
    auto result = co_await (boxed(call_handler(shared_->handler, ctx, std::move(request))) ||
                            wait_peer_gone(stream_.socket()));
    if (result.index() == 1) co_return std::nullopt;
    co_return std::move(std::get<0>(result));
}

asio::awaitable<bool> Session::send_response(RequestContext& ctx, const RequestLine& line,
                                             Response res) {
    res.version(line.version);
    res.keep_alive(line.keep_alive);
    res.set(kRequestIdHeader, ctx.id);
    if (line.head) {
        auto length = res.body().size();
        res.body().clear();
        res.content_length(length);
    }
    log_request(ctx, line, res.result_int());
    co_return co_await write(res) && line.keep_alive;
}

asio::awaitable<bool> Session::send_stream(RequestContext& ctx, const RequestLine& line,
                                           StreamingResponse reply) {
    unsigned status = reply.head.result_int();
    StreamOptions options{line.version, line.keep_alive, line.head, ctx.id, shared_->read_timeout};
    StreamResult result = co_await write_streaming_response(stream_, std::move(reply), options);
    if (result.end == StreamEnd::producer_failed) {
        log::error("request failed", {{"req", ctx.id},
                                      {"route", ctx.route},
                                      {"error", log::describe(result.failure)},
                                      {"after_bytes", result.bytes}});
    }
    log_request(ctx, line, status, {{"stream", to_string(result.end)}, {"bytes", result.bytes}});
    co_return result.end == StreamEnd::complete&& result.keep_alive;
}

asio::awaitable<bool> Session::take_over(RequestContext& ctx, const RequestLine& line,
                                         WebSocketTakeover takeover) {
    if (!line.upgrade) {
        Response res = detail_response(bhttp::status::upgrade_required, "Upgrade Required");
        res.set(bhttp::field::upgrade, "websocket");
        co_return co_await send_response(ctx, line, std::move(res));
    }
    taken_over_ = true;
    WebSocketOptions options{ctx.id, shared_->idle_timeout};
    WebSocketResult result =
        co_await run_websocket(std::move(stream_), *line.upgrade, std::move(takeover), options);
    if (result.end == WebSocketEnd::run_failed) {
        log::error(
            "request failed",
            {{"req", ctx.id}, {"route", ctx.route}, {"error", log::describe(result.failure)}});
    }
    unsigned status = result.end == WebSocketEnd::handshake_failed ? 400 : 101;
    log_request(ctx, line, status, {{"websocket", to_string(result.end)}});
    co_return false;  // the connection was the WebSocket's
}

void Session::log_request(const RequestContext& ctx, const RequestLine& line, unsigned status,
                          std::initializer_list<log::Field> extra) const {
    if (!ctx.log_line) return;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - ctx.start);
    std::vector<log::Field> fields;
    fields.reserve(6 + ctx.log.items().size() + extra.size());
    fields.emplace_back("req", ctx.id);
    fields.emplace_back("method", line.method);
    fields.emplace_back("path", line.path);
    if (!ctx.route.empty()) fields.emplace_back("route", ctx.route);
    fields.emplace_back("status", status);
    for (const auto& [key, value] : ctx.log.items()) fields.emplace_back(key, value);
    fields.insert(fields.end(), extra.begin(), extra.end());
    fields.emplace_back("duration_ms", static_cast<long long>(ms.count()));
    log::write(log::Level::info, "request", std::span<const log::Field>(fields));
}

}  // namespace sbx::http
