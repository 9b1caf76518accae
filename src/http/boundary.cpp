// Request boundary: catch, tell cancellation from failure, log with the request id, answer 500.
#include "http/boundary.h"

#include <boost/asio/this_coro.hpp>
#include <exception>

#include "log/log.h"

namespace sbx::http {

namespace asio = boost::asio;

asio::awaitable<Reply> call_handler(const Handler& handler, RequestContext& ctx, Request request) {
    std::exception_ptr failure;
    try {
        co_return co_await handler(ctx, std::move(request));
    } catch (...) {
        failure = std::current_exception();
    }
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) std::rethrow_exception(failure);
    log::error("request failed",
               {{"req", ctx.id}, {"route", ctx.route}, {"error", log::describe(failure)}});
    co_return detail_response(boost::beast::http::status::internal_server_error,
                              "Internal server error");
}

}  // namespace sbx::http
