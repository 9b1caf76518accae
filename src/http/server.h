// HTTP/1.1 server: accepts on HOST:PORT and runs one session coroutine per connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>

#include "config/config.h"
#include "http/message.h"
#include "http/reply.h"
#include "sys/error.h"

namespace sbx::http {

struct SessionShared;

// Each connection runs on its own strand of `io`, so `io.run()` may be called from several
// threads. Limits come from the Config: HTTP_HEADER_TIMEOUT (request line + headers),
// HTTP_READ_TIMEOUT (the body), HTTP_IDLE_TIMEOUT (keep-alive gap), MAX_BODY_SIZE (413),
// 8 KiB of request line (414), 16 KiB of head (431), strict framing (see framing.h),
// MAX_CONNECTIONS (see ConnectionTable for who makes room), MAX_BUFFERED_BODY_BYTES (see
// BodyBudget: 503 + Retry-After when bodies cannot fit).
// While a handler runs there is no deadline; if the client disconnects meanwhile, the handler
// coroutine is cancelled (terminal cancellation), the request logged as 499 and the connection
// closed. Exceptions from the handler become 500 (see boundary.h). Replies are written as
// reply.h says (whole, streamed with backpressure, or a WebSocket), then one info line per
// request: `event=request req method path route status <handler's fields> duration_ms`.
class Server {
   public:
    Server(boost::asio::io_context& io, const config::Config& cfg, Handler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens on cfg.host:cfg.port (port 0 = any free port), starts accepting and
    // logs `event=listening host=... port=N`. Returns the bound port. Errors (bad address,
    // port in use) come back as SysError{Step::socket, errno, "host:port"}. Call once.
    [[nodiscard]] sys::Result<std::uint16_t> start();

    // Stops accepting new connections (the Server must outlive the io_context run that follows).
    // Sessions in progress finish their current request;
    // idle keep-alive connections close at their idle deadline. Thread-safe; idempotent.
    void stop();

   private:
    boost::asio::io_context& io_;
    const config::Config& cfg_;
    std::shared_ptr<SessionShared> shared_;
    boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace sbx::http
