// EgressRules: parsing of NETWORK_ALLOW entries and resolv.conf, rendering of the nft table.
#include "network/egress_rules.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

namespace sbx::network {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v == 0 || v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

// address/prefix with the host bits cleared, e.g. "10.1.2.3/8" -> "10.0.0.0/8".
std::optional<std::string> normalize(std::string_view addr, std::optional<unsigned> prefix,
                                     bool ipv6) {
    std::array<unsigned char, 16> bytes{};
    const std::string a(addr);
    if (::inet_pton(ipv6 ? AF_INET6 : AF_INET, a.c_str(), bytes.data()) != 1) return std::nullopt;
    const unsigned bits = ipv6 ? 128 : 32;
    const unsigned len = prefix.value_or(bits);
    if (len > bits) return std::nullopt;
    for (unsigned i = len; i < bits; ++i) {
        bytes[i / 8] = static_cast<unsigned char>(bytes[i / 8] & ~(0x80U >> (i % 8)));
    }
    std::array<char, INET6_ADDRSTRLEN> out{};
    ::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), out.data(), out.size());
    return std::string(out.data()) + "/" + std::to_string(len);
}

std::optional<AllowEntry> fail(std::string* reason, std::string text) {
    if (reason != nullptr) *reason = std::move(text);
    return std::nullopt;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string kbytes(std::uint64_t bytes) { return std::to_string(std::max<std::uint64_t>(1, bytes / 1024)); }

void set_of(std::string& out, const std::vector<std::string_view>& nets) {
    out += "{ ";
    for (std::size_t i = 0; i < nets.size(); ++i) {
        if (i > 0) out += ", ";
        out += nets[i];
    }
    out += " }";
}

// "ip daddr 10.0.0.0/8 tcp dport 5432 " style match for one entry (no verdict).
std::vector<std::string> entry_matches(const AllowEntry& e) {
    const std::string addr = std::string(e.ipv6 ? "ip6" : "ip") + " daddr " + e.network;
    if (!e.port) return {addr};
    const std::string port = std::to_string(*e.port);
    return {addr + " tcp dport " + port, addr + " udp dport " + port};
}

// The output hook: the stacks' new connections — allowed entries, then the blocks, then the
// limits (out_new).
std::vector<std::string> output_rules(const EgressRules& r, const std::string& gids) {
    std::vector<std::string> out = {"type filter hook output priority filter; policy accept;",
                                    "meta skgid != " + gids + " accept",
                                    "ct state established,related goto out_rate"};
    for (const auto& ns : r.dns) {
        if (auto e = parse_allow_entry(ns)) {
            e->port = 53;
            for (const auto& m : entry_matches(*e)) out.push_back(m + " goto out_new");
        }
    }
    for (const auto& e : r.allow) {
        for (const auto& m : entry_matches(e)) out.push_back(m + " goto out_new");
    }
    out.emplace_back("fib daddr type local goto deny");
    std::string v4 = "ip daddr ";
    set_of(v4, blocked_ipv4());
    out.push_back(v4 + " goto deny");
    std::string v6 = "ip6 daddr ";
    set_of(v6, blocked_ipv6());
    out.push_back(v6 + " goto deny");
    std::string ports;
    for (const auto p : blocked_tcp_ports()) {
        ports += (ports.empty() ? "" : ", ") + std::to_string(p);
    }
    out.push_back("tcp dport { " + ports + " } goto deny");
    out.emplace_back("goto out_new");
    return out;
}

// The stacks' conntrack timeouts (see kClosedTcpTimeoutS); set on each new connection.
std::string conntrack_timeouts() {
    const auto s = [](unsigned v) { return std::to_string(v); };
    const std::string closing = s(kClosingTcpTimeoutS);
    return "  ct timeout stack_tcp { protocol tcp; l3proto inet; policy = { syn_sent: " + closing +
           ", syn_recv: " + closing + ", fin_wait: " + closing + ", close_wait: " + closing +
           ", last_ack: " + closing + ", time_wait: " + s(kClosedTcpTimeoutS) +
           ", close: " + s(kClosedTcpTimeoutS) + " }; }\n" +
           "  ct timeout stack_udp { protocol udp; l3proto inet; policy = { unreplied: " +
           s(kUnrepliedUdpTimeoutS) + ", replied: " + s(kRepliedUdpTimeoutS) + " }; }\n";
}

}  // namespace

std::optional<AllowEntry> parse_allow_entry(std::string_view text, std::string* reason) {
    text = trim(text);
    if (text.empty()) return fail(reason, "empty entry");
    AllowEntry e;
    std::string_view addr = text;
    std::optional<unsigned> prefix;
    if (text.front() == '[') {  // [v6] or [v6]:port
        const auto close = text.find(']');
        if (close == std::string_view::npos) return fail(reason, "missing ]");
        addr = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !(e.port = parse_port(rest.substr(1)))) {
                return fail(reason, "bad port");
            }
        }
        e.ipv6 = true;
    } else if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        unsigned len = 0;
        auto digits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (ec != std::errc{} || end != digits.data() + digits.size()) {
            return fail(reason, "bad prefix length");
        }
        prefix = len;
        e.ipv6 = addr.find(':') != std::string_view::npos;
    } else if (std::count(text.begin(), text.end(), ':') >= 2) {
        e.ipv6 = true;
    } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        addr = text.substr(0, colon);
        if (!(e.port = parse_port(text.substr(colon + 1)))) return fail(reason, "bad port");
    }
    auto net = normalize(addr, prefix, e.ipv6);
    if (!net) return fail(reason, "not an IP address or network: " + std::string(addr));
    e.network = std::move(*net);
    return e;
}

sys::Result<std::vector<AllowEntry>> resolve_allow_entry(std::string_view text) {
    std::string reason;
    if (auto e = parse_allow_entry(text, &reason)) return std::vector<AllowEntry>{*e};
    text = trim(text);
    const auto colon = text.rfind(':');
    const auto port = colon == std::string_view::npos ? std::nullopt : parse_port(text.substr(colon + 1));
    if (!port) {
        return sys::SysError{sys::Step::firewall, EINVAL,
                             "NETWORK_ALLOW entry '" + std::string(text) + "': " + reason +
                                 " (use a CIDR, an IP, IP:port or host:port)"};
    }
    const std::string host(text.substr(0, colon));
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
        return sys::SysError{sys::Step::firewall, EINVAL,
                             "NETWORK_ALLOW host '" + host + "': " + ::gai_strerror(rc)};
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    std::vector<AllowEntry> out;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        std::array<char, INET6_ADDRSTRLEN> buf{};
        const void* src = ai->ai_family == AF_INET6
                              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
        if (::inet_ntop(ai->ai_family, src, buf.data(), buf.size()) == nullptr) continue;
        AllowEntry e{normalize(buf.data(), std::nullopt, ai->ai_family == AF_INET6).value_or(""),
                     ai->ai_family == AF_INET6, port};
        if (!e.network.empty() &&
            std::none_of(out.begin(), out.end(), [&](const AllowEntry& o) { return o.network == e.network; })) {
            out.push_back(std::move(e));
        }
    }
    return out;
}

std::vector<std::string> resolv_conf_nameservers(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.starts_with("nameserver")) continue;
        line = trim(line.substr(10));
        if (const auto end = line.find_first_of(" \t#"); end != std::string_view::npos) {
            line = line.substr(0, end);
        }
        if (!line.empty() && parse_allow_entry(line)) out.emplace_back(line);
    }
    return out;
}

// IANA's IPv4 and IPv6 special-purpose address registries, plus multicast and the
// deprecated site-local and IPv4-compatible IPv6 ranges. Not blocked: ranges IANA marks
// globally reachable (AS112, anycast services), and the documentation prefixes (192.0.2/24,
// 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20): never routed, nothing is behind them.
const std::vector<std::string_view>& blocked_ipv4() {
    static const std::vector<std::string_view> nets = {
        "0.0.0.0/8",       // "this network"
        "10.0.0.0/8",      // private
        "100.64.0.0/10",   // shared address space (CGNAT)
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local: cloud metadata services
        "172.16.0.0/12",   // private
        "192.0.0.0/24",    // IETF protocol assignments (DS-Lite, NAT64 discovery)
        "192.88.99.0/24",  // deprecated 6to4 relay anycast
        "192.168.0.0/16",  // private
        "198.18.0.0/15",   // benchmarking
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4"};    // reserved, limited broadcast
    return nets;
}

const std::vector<std::string_view>& blocked_ipv6() {
    static const std::vector<std::string_view> nets = {
        "::/96",              // unspecified, loopback, deprecated IPv4-compatible
        "::ffff:0.0.0.0/96",  // IPv4-mapped
        "64:ff9b::/96",       // NAT64 well-known prefix: any IPv4 address behind a translator
        "64:ff9b:1::/48",     // local-use IPv4/IPv6 translation
        "100::/64",           // discard-only
        "100:0:0:1::/64",     // dummy prefix
        "2001::/32",          // Teredo: embeds IPv4 addresses
        "2001:2::/48",        // benchmarking
        "2001:10::/28",       // deprecated ORCHID
        "2002::/16",          // 6to4: embeds an IPv4 address
        "5f00::/16",          // segment routing SIDs
        "fc00::/7",           // unique local
        "fe80::/10",          // link-local
        "fec0::/10",          // deprecated site-local
        "ff00::/8"};          // multicast
    return nets;
}

// Outbound mail (SMTP, submission over TLS, submission): spam from runs would land on the
// host's address reputation. Reachable only through a NETWORK_ALLOW entry.
const std::vector<std::uint16_t>& blocked_tcp_ports() {
    static const std::vector<std::uint16_t> ports = {25, 465, 587};
    return ports;
}

std::uint64_t conntrack_entries_per_run(const EgressRules& r) {
    return 2ULL * r.max_connections + r.new_connections_burst +
           std::uint64_t{kClosedTcpTimeoutS} * r.new_connections_rate;
}

std::string render_ruleset(const EgressRules& r) {
    const std::string gids = std::to_string(r.gid_first) + "-" + std::to_string(r.gid_last);
    const std::string rate = "limit rate over " + kbytes(r.bandwidth_bytes) + " kbytes/second burst " +
                             kbytes(r.bandwidth_bytes) + " kbytes";
    std::string t;
    auto chain = [&t](std::string_view name, const std::vector<std::string>& rules) {
        ((t += "  chain ") += name) += " {\n";
        for (const auto& rule : rules) (t += "    ") += rule + "\n";
        t += "  }\n";
    };
    t += "add table inet " + r.table + "\n";  // so that the delete cannot fail: one atomic batch
    t += "delete table inet " + r.table + "\n";
    t += "table inet " + r.table + " {\n";
    t += "  set conns { type gid; flags dynamic; size 65535; }\n";
    t += "  set new_conns { type gid; flags dynamic,timeout; timeout 1m; size 65535; }\n";
    t += "  set rate_out { type gid; flags dynamic,timeout; timeout 1m; size 65535; }\n";
    t += "  set rate_in { type gid; flags dynamic,timeout; timeout 1m; size 65535; }\n";
    t += conntrack_timeouts();
    chain("deny", {"meta l4proto tcp reject with tcp reset", "reject with icmpx admin-prohibited"});
    chain("out_rate", {"update @rate_out { meta skgid " + rate + " } drop"});
    // A connection's first packet (its conntrack entry not yet in the table) spends a token of
    // the run's new-connection budget; later packets of an unanswered UDP flow do not.
    chain("out_new", {"ct status != confirmed update @new_conns { meta skgid limit rate over " +
                          std::to_string(r.new_connections_rate) + "/second burst " +
                          std::to_string(r.new_connections_burst) + " packets } goto deny",
                      "add @conns { meta skgid ct count over " + std::to_string(r.max_connections) +
                          " } goto deny",
                      "meta l4proto tcp ct timeout set \"stack_tcp\"",
                      "meta l4proto udp ct timeout set \"stack_udp\"", "goto out_rate"});
    chain("output", output_rules(r, gids));
    chain("input", {"type filter hook input priority filter; policy accept;",
                    "meta skgid " + gids + " update @rate_in { meta skgid " + rate + " } drop"});
    t += "}\n";
    return t;
}

}  // namespace sbx::network
