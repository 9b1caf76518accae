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
    std::uint32_t max_connections = 64;           // per run, open at once
    std::uint32_t new_connections_rate = 50;      // per run, new connections per second
    std::uint32_t new_connections_burst = 100;    // per run, new connections at once
};

// Conntrack timeouts (seconds) for the stacks' connections, shorter than the kernel's for
// closing and unanswered ones: how long a run's closed connections stay in the host's table
// (TIME_WAIT would otherwise hold each for 120 s, uncounted by the per-run limit).
inline constexpr unsigned kClosedTcpTimeoutS = 10;   // time_wait, close
inline constexpr unsigned kClosingTcpTimeoutS = 30;  // syn_*, fin_wait, close_wait, last_ack
inline constexpr unsigned kUnrepliedUdpTimeoutS = 10;
inline constexpr unsigned kRepliedUdpTimeoutS = 30;

// The most conntrack entries one run can hold in the host's table at once: its open
// connections (TCP not yet closed, UDP flows: NETWORK_MAX_CONNECTIONS), the ones it closed in
// the last kClosedTcpTimeoutS seconds (at most the open ones plus every connection it may
// start in that time).
[[nodiscard]] std::uint64_t conntrack_entries_per_run(const EgressRules& rules);

// The whole table, ready for `nft -f` (a delete of an older table of the same name first).
[[nodiscard]] std::string render_ruleset(const EgressRules& rules);

// Blocked unless allowed: loopback, this host's own addresses (fib type local), private,
// shared (CGNAT), link-local (cloud metadata), multicast, reserved and deprecated ranges, and
// the IPv6 prefixes that embed or translate to IPv4 (a way around the IPv4 blocks): the
// special-purpose ranges IANA marks not globally reachable, except documentation prefixes.
// Outbound SMTP (TCP 25, 465, 587) is blocked the same way, to any address.
[[nodiscard]] const std::vector<std::string_view>& blocked_ipv4();
[[nodiscard]] const std::vector<std::string_view>& blocked_ipv6();
[[nodiscard]] const std::vector<std::uint16_t>& blocked_tcp_ports();

}  // namespace sbx::network
