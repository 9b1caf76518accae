// Callback URLs and the address policy of their delivery (SSRF rules, docs/SECURITY.md).
#include "jobs/callback_target.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace sbx::jobs {
namespace asio = boost::asio;
namespace {

std::optional<CallbackTarget> fail(std::string* reason, std::string text) {
    if (reason != nullptr) *reason = std::move(text);
    return std::nullopt;
}

// The port after ':' of an authority, or the scheme's default.
bool split_port(std::string_view& host, CallbackTarget& t) {
    const auto colon = host.rfind(':');
    const auto bracket = host.rfind(']');
    if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
        return true;
    }
    const auto digits = host.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) {
        return false;
    }
    t.port = static_cast<std::uint16_t>(port);
    host = host.substr(0, colon);
    return true;
}

std::vector<asio::ip::address> host_addresses() {
    std::vector<asio::ip::address> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, ::freeifaddrs);
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr) continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            out.emplace_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
            asio::ip::address_v6::bytes_type b{};
            std::copy_n(in6->sin6_addr.s6_addr, 16, b.begin());
            out.emplace_back(asio::ip::address_v6(b));
        }
    }
    return out;
}

}  // namespace

std::optional<CallbackTarget> parse_callback_url(std::string_view url, std::string* reason) {
    if (url.size() > kMaxCallbackUrlBytes) return fail(reason, "URL too long");
    if (std::any_of(url.begin(), url.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        return fail(reason, "URL contains spaces or control characters");
    }
    CallbackTarget t;
    if (url.starts_with("https://")) {
        t.tls = true;
        t.port = 443;
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        url.remove_prefix(7);
    } else {
        return fail(reason, "URL scheme should be 'http' or 'https'");
    }
    if (url.find('#') != std::string_view::npos) return fail(reason, "URL has a fragment");
    const auto path_at = url.find_first_of("/?");
    std::string_view host = url.substr(0, path_at);
    t.target = path_at == std::string_view::npos ? "/" : std::string(url.substr(path_at));
    if (t.target.front() == '?') t.target.insert(0, "/");
    if (host.find('@') != std::string_view::npos) return fail(reason, "URL has user info");
    if (!split_port(host, t)) return fail(reason, "invalid port");
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    if (host.empty()) return fail(reason, "URL has no host");
    t.host = std::string(host);
    return t;
}

bool in_network(const asio::ip::address& address, std::string_view network) {
    const auto slash = network.find('/');
    boost::system::error_code ec;
    const auto base = asio::ip::make_address(network.substr(0, slash), ec);
    if (ec) return false;
    unsigned len = base.is_v4() ? 32 : 128;
    if (slash != std::string_view::npos) {
        auto digits = network.substr(slash + 1);
        std::from_chars(digits.data(), digits.data() + digits.size(), len);
    }
    auto bytes_of = [](const asio::ip::address& a) {
        std::vector<unsigned char> b;
        if (a.is_v4()) {
            auto v = a.to_v4().to_bytes();
            b.assign(v.begin(), v.end());
        } else {
            auto v = a.to_v6().to_bytes();
            b.assign(v.begin(), v.end());
        }
        return b;
    };
    const auto a = bytes_of(address), n = bytes_of(base);
    if (a.size() != n.size() || len > a.size() * 8) return false;
    for (unsigned i = 0; i < len; ++i) {
        const unsigned mask = 0x80U >> (i % 8);
        if ((a[i / 8] & mask) != (n[i / 8] & mask)) return false;
    }
    return true;
}

AddressPolicy::AddressPolicy(std::vector<network::AllowEntry> allow,
                             std::vector<asio::ip::address> local)
    : allow_(std::move(allow)), local_(std::move(local)) {}

std::optional<AddressPolicy> AddressPolicy::from_config(const std::vector<std::string>& entries,
                                                        std::string* error) {
    std::vector<network::AllowEntry> allow;
    for (const auto& text : entries) {
        auto resolved = network::resolve_allow_entry(text);
        if (!resolved) {
            if (error != nullptr) *error = resolved.error().render();
            return std::nullopt;
        }
        allow.insert(allow.end(), resolved->begin(), resolved->end());
    }
    return AddressPolicy(std::move(allow), host_addresses());
}

std::optional<std::string> AddressPolicy::refusal(const asio::ip::address& address,
                                                  std::uint16_t port) const {
    for (const auto& e : allow_) {
        if ((!e.port || *e.port == port) && in_network(address, e.network)) return std::nullopt;
    }
    const std::string text = address.to_string();
    const auto& blocked = address.is_v4() ? network::blocked_ipv4() : network::blocked_ipv6();
    for (const auto net : blocked) {
        if (in_network(address, net)) {
            return text + " is in a blocked range (" + std::string(net) + ")";
        }
    }
    if (std::find(local_.begin(), local_.end(), address) != local_.end()) {
        return text + " is an address of this host";
    }
    const auto& ports = network::blocked_tcp_ports();
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
        return "port " + std::to_string(port) + " is blocked (mail)";
    }
    return std::nullopt;
}

}  // namespace sbx::jobs
