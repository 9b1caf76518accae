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

const std::vector<std::string_view>& blocked_ipv4() {
    static const std::vector<std::string_view> nets = {
        "0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16",  "172.16.0.0/12",  "192.0.0.0/24",  "192.168.0.0/16",
        "198.18.0.0/15",   "224.0.0.0/4",    "240.0.0.0/4"};
    return nets;
}

const std::vector<std::string_view>& blocked_ipv6() {
    static const std::vector<std::string_view> nets = {
        "::/127", "::ffff:0.0.0.0/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "ff00::/8"};
    return nets;
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
    // Output: the stacks' new connections — allowed entries, then the blocks, then the limits.
    std::vector<std::string> output = {"type filter hook output priority filter; policy accept;",
                                       "meta skgid != " + gids + " accept",
                                       "ct state established,related goto out_rate"};
    for (const auto& ns : r.dns) {
        if (auto e = parse_allow_entry(ns)) {
            e->port = 53;
            for (const auto& m : entry_matches(*e)) output.push_back(m + " goto out_new");
        }
    }
    for (const auto& e : r.allow) {
        for (const auto& m : entry_matches(e)) output.push_back(m + " goto out_new");
    }
    output.emplace_back("fib daddr type local goto deny");
    std::string v4 = "ip daddr ";
    set_of(v4, blocked_ipv4());
    output.push_back(v4 + " goto deny");
    std::string v6 = "ip6 daddr ";
    set_of(v6, blocked_ipv6());
    output.push_back(v6 + " goto deny");
    output.emplace_back("goto out_new");

    t += "add table inet " + r.table + "\n";  // so that the delete cannot fail: one atomic batch
    t += "delete table inet " + r.table + "\n";
    t += "table inet " + r.table + " {\n";
    t += "  set conns { type gid; flags dynamic; size 65535; }\n";
    t += "  set rate_out { type gid; flags dynamic,timeout; timeout 1m; size 65535; }\n";
    t += "  set rate_in { type gid; flags dynamic,timeout; timeout 1m; size 65535; }\n";
    chain("deny", {"meta l4proto tcp reject with tcp reset", "reject with icmpx admin-prohibited"});
    chain("out_rate", {"update @rate_out { meta skgid " + rate + " } drop"});
    chain("out_new", {"add @conns { meta skgid ct count over " + std::to_string(r.max_connections) +
                          " } goto deny",
                      "goto out_rate"});
    chain("output", output);
    chain("input", {"type filter hook input priority filter; policy accept;",
                    "meta skgid " + gids + " update @rate_in { meta skgid " + rate + " } drop"});
    t += "}\n";
    return t;
}

}  // namespace sbx::network
