// The /ui page's security headers, CSP, gzip negotiation and ETag matching.
#include "web/ui_headers.h"

#include <sys/random.h>

#include <array>
#include <boost/beast/http/field.hpp>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <system_error>

namespace sbx::web {

namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// The q of one Accept-Encoding element's parameters (";q=0.5"); 1 when absent. Only "q=0",
// "q=0.", "q=0.0"... mean "not acceptable", so the value is compared as text, not parsed.
bool q_is_zero(std::string_view params) {
    while (!params.empty()) {
        auto semi = params.find(';');
        std::string_view p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=') {
            continue;
        }
        std::string_view v = p.substr(2);
        if (v.empty() || v[0] != '0') return false;
        return v.find_first_not_of("0.", 1) == std::string_view::npos;
    }
    return false;
}

}  // namespace

std::string ui_content_security_policy(std::string_view style_nonce) {
    std::string csp =
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-";
    csp += style_nonce;
    csp +=
        "'; img-src 'self' blob: data:; font-src 'self'; connect-src 'self'; "
        "frame-src 'none'; child-src 'none'; worker-src 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
        "require-trusted-types-for 'script'; trusted-types sbx-result";
    return csp;
}

void set_ui_security_headers(http::Response& res) {
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set(bhttp::field::x_frame_options, "DENY");
    res.set("Cross-Origin-Opener-Policy", "same-origin");
    res.set("Cross-Origin-Resource-Policy", "same-origin");
    res.set("Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()");
}

bool accepts_gzip(std::string_view accept_encoding) {
    while (!accept_encoding.empty()) {
        auto comma = accept_encoding.find(',');
        std::string_view element = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view{}
                                                          : accept_encoding.substr(comma + 1);
        auto semi = element.find(';');
        std::string_view coding = trim(element.substr(0, semi));
        std::string_view params =
            semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
        if ((iequals(coding, "gzip") || coding == "*") && !q_is_zero(params)) return true;
    }
    return false;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    if (trim(if_none_match) == "*") return true;
    while (!if_none_match.empty()) {
        auto comma = if_none_match.find(',');
        std::string_view tag = trim(if_none_match.substr(0, comma));
        if_none_match =
            comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (!tag.empty() && tag == etag) return true;
    }
    return false;
}

std::string random_nonce() {
    std::array<unsigned char, 16> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom (CSP nonce)");
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += kHex[b >> 4U];
        out += kHex[b & 0xFU];
    }
    return out;
}

}  // namespace sbx::web
