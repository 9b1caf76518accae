// HOST parsing and the non-loopback decision: by the address, not by its spelling.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "http/listen_address.h"

namespace sbx::http {
namespace {

bool loopback_host(const std::string& host) {
    boost::asio::io_context io;
    auto address = resolve_listen_address(io, host);
    EXPECT_TRUE(address) << host;
    return address && is_loopback(*address);
}

TEST(ListenAddress, LoopbackByAddress) {
    for (const char* host :
         {"127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1", "localhost"}) {
        EXPECT_TRUE(loopback_host(host)) << host;
    }
}

TEST(ListenAddress, WildcardsAndOthersAreNotLoopback) {
    for (const char* host :
         {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::ffff:10.0.0.1", "fe80::1", "::2"}) {
        EXPECT_FALSE(loopback_host(host)) << host;
    }
}

}  // namespace
}  // namespace sbx::http
