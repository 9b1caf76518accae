// HOST → the address to listen on, and whether it is reachable only from this machine.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <string>

#include "sys/error.h"

namespace sbx::http {

// A literal IPv4/IPv6 address, or a name ("localhost") resolved once (blocking: start-up only),
// taking the resolver's first answer. Error: SysError{Step::socket, EINVAL, "cannot resolve
// HOST <host>"}.
[[nodiscard]] sys::Result<boost::asio::ip::address> resolve_listen_address(
    boost::asio::io_context& io, const std::string& host);

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8 (::ffff:127.0.0.1); false for the
// wildcards 0.0.0.0 and :: and every other address.
[[nodiscard]] bool is_loopback(const boost::asio::ip::address& address) noexcept;

}  // namespace sbx::http
