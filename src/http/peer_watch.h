// Noticing that the client went away while the server is busy with its request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace sbx::http {

// Completes when the peer has closed or reset the connection (readable and a MSG_PEEK reads 0
// bytes), on a socket error, or when cancelled. Bytes of a pipelined next request cannot be
// looked past without consuming them: it then waits until cancelled. Reads nothing; may run
// beside a write on the same socket. Never throws.
boost::asio::awaitable<void> wait_peer_gone(boost::asio::ip::tcp::socket& socket);

}  // namespace sbx::http
