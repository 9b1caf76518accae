// Listen address: parse or resolve HOST; loopback test on the parsed address, not the text.
#include "http/listen_address.h"

#include <boost/asio/ip/tcp.hpp>
#include <cerrno>

namespace sbx::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

sys::Result<asio::ip::address> resolve_listen_address(asio::io_context& io,
                                                      const std::string& host) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec) return address;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty()) {
        return sys::SysError{sys::Step::socket, EINVAL, "cannot resolve HOST " + host};
    }
    return results.begin()->endpoint().address();
}

bool is_loopback(const asio::ip::address& address) noexcept {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        // address_v6::is_loopback knows only ::1
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
    }
    return address.is_loopback();
}

}  // namespace sbx::http
