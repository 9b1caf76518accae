// The request boundary: the one place where an exception from a handler becomes a 500.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/message.h"
#include "http/reply.h"
#include "http/request_context.h"

namespace sbx::http {

// Awaits handler(ctx, request). An exception becomes 500 {"detail":"Internal server error"}
// and an error line `event="request failed" req=<ctx.id> route=... error=<what()>`; but when
// the awaiting coroutine has been cancelled (the client went away) the exception is rethrown:
// nobody would read an answer, and the caller logs the request as 499. `handler` and `ctx` must
// outlive the returned awaitable.
[[nodiscard]] boost::asio::awaitable<Reply> call_handler(const Handler& handler,
                                                         RequestContext& ctx, Request request);

}  // namespace sbx::http
