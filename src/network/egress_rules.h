// EgressRules: what runs with egress may reach, rendered as one nftables table.
//
// Every run's user-mode network stack (slirp4netns) makes its connections from the host as
// root with a group id of its own, from a range reserved for it; the table matches that range
// (meta skgid) and nothing else on the host. Pure functions: unit-tested without a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"

namespace sbx::network {

// One NETWORK_ALLOW entry, or a resolver: a network (address/prefix) and optionally a port.
struct AllowEntry {
    std::string network;  // "10.1.0.0/16", "192.0.2.7/32", "fd00::/8"
    bool ipv6 = false;
    std::optional<std::uint16_t> port;  // TCP and UDP
};

// "10.0.0.0/8", "10.1.2.3", "10.1.2.3:5432", "fd00::/8", "[fd00::1]:80". Host names are not
// taken here (resolve_allow_entry does that once at start-up). Errors: a reason for the user.
[[nodiscard]] std::optional<AllowEntry> parse_allow_entry(std::string_view text,
                                                          std::string* reason = nullptr);

// parse_allow_entry, or "name:port" resolved through the host's resolver (every address).
[[nodiscard]] sys::Result<std::vector<AllowEntry>> resolve_allow_entry(std::string_view text);

// The `nameserver` addresses of a resolv.conf text, in order.
[[nodiscard]] std::vector<std::string> resolv_conf_nameservers(std::string_view text);

struct EgressRules {
    std::string table;  // nftables table name, family inet
    std::uint32_t gid_first = 0, gid_last = 0;  // the stacks' group ids
    std::vector<AllowEntry> allow;   // reachable although in a blocked range
    std::vector<std::string> dns;    // resolvers: port 53 reachable
    std::uint64_t bandwidth_bytes = 10ULL << 20;  // per run, per direction, bytes/s
    std::uint32_t max_connections = 64;           // per run
};

// The whole table, ready for `nft -f` (a delete of an older table of the same name first).
[[nodiscard]] std::string render_ruleset(const EgressRules& rules);

// Blocked unless allowed: loopback, this host's own addresses (fib type local), private,
// shared (CGNAT), link-local (cloud metadata), multicast and reserved ranges.
[[nodiscard]] const std::vector<std::string_view>& blocked_ipv4();
[[nodiscard]] const std::vector<std::string_view>& blocked_ipv6();

}  // namespace sbx::network
