// Peer watch: wait for readability, then peek one byte without consuming it.
#include "http/peer_watch.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace sbx::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> wait_peer_gone(tcp::socket& socket) {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    for (;;) {
        auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, token);
        if (ec) co_return;  // cancelled (the work finished) or a socket error
        char byte = 0;
        ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) co_return;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return;
        if (n > 0) {
            asio::steady_timer forever(socket.get_executor(),
                                       asio::steady_timer::time_point::max());
            co_await forever.async_wait(token);
            co_return;
        }
    }
}

}  // namespace sbx::http
