// Callback URLs: parsing, and which addresses a callback may be delivered to (the egress
// firewall's blocked ranges, minus NETWORK_ALLOW, plus this host's own addresses).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "network/egress_rules.h"

namespace sbx::jobs {

// An http:// or https:// URL, split for the client.
struct CallbackTarget {
    bool tls = false;
    std::string host;  // name or IP literal (IPv6 without brackets)
    std::uint16_t port = 80;
    std::string target;  // path and query, "/" when empty
};

// Longest callback_url accepted.
inline constexpr std::size_t kMaxCallbackUrlBytes = 2048;

// nullopt with `reason` for: another scheme, user info, no host, a bad port, a fragment,
// spaces or control characters, over kMaxCallbackUrlBytes.
[[nodiscard]] std::optional<CallbackTarget> parse_callback_url(std::string_view url,
                                                               std::string* reason);

// Where callbacks may go. Thread-safe once built (read-only).
class AddressPolicy {
   public:
    // `allow`: NETWORK_ALLOW entries (parse_allow_entry or resolve_allow_entry forms).
    // `local`: this host's own addresses (refused like loopback: a callback must not reach
    // services listening on the host).
    AddressPolicy(std::vector<network::AllowEntry> allow,
                  std::vector<boost::asio::ip::address> local);

    // Built from NETWORK_ALLOW (host names resolved now) and the host's interfaces.
    // Errors: a bad NETWORK_ALLOW entry, rendered.
    [[nodiscard]] static std::optional<AddressPolicy> from_config(
        const std::vector<std::string>& network_allow, std::string* error);

    // Why `address`:`port` may not be reached ("127.0.0.1 is in a blocked range
    // (127.0.0.0/8)"), or nullopt when it may: not blocked, or listed in NETWORK_ALLOW.
    [[nodiscard]] std::optional<std::string> refusal(const boost::asio::ip::address& address,
                                                     std::uint16_t port) const;

   private:
    std::vector<network::AllowEntry> allow_;
    std::vector<boost::asio::ip::address> local_;
};

// Whether `address` is inside `network` ("10.0.0.0/8", "fd00::/8"); false for a malformed
// network or another family (IPv4-mapped IPv6 addresses are compared as IPv6).
[[nodiscard]] bool in_network(const boost::asio::ip::address& address, std::string_view network);

}  // namespace sbx::jobs
