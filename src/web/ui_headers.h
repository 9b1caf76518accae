// The /ui page's HTTP policy: its Content-Security-Policy and security headers, content coding
// and conditional requests. Pure functions of strings (unit-tested without a server).
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace sbx::web {

// The page's Content-Security-Policy. `style_nonce` (base64/hex characters only) is the one
// that lets CodeMirror's run-time <style> element in; nothing else inline runs or applies:
// scripts only from this origin (no inline, no eval), Trusted Types required for every DOM
// HTML sink with one policy, "sbx-result", for the sandboxed result frame; images also from
// blob:/data: (previews of produced files); fetch/XHR/WebSocket only to this origin; the page
// cannot be framed, plugins and <base> are off, forms submit nowhere.
[[nodiscard]] std::string ui_content_security_policy(std::string_view style_nonce);

// Headers every /ui response carries: X-Content-Type-Options nosniff, Referrer-Policy
// no-referrer, X-Frame-Options DENY, Cross-Origin-Opener-Policy and -Resource-Policy
// same-origin, a Permissions-Policy that turns off device APIs.
void set_ui_security_headers(http::Response& res);

// True when an Accept-Encoding value accepts gzip (a "gzip" or "*" coding whose q is not 0).
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

// True when an If-None-Match value matches `etag` (a quoted strong tag) by the weak comparison
// of RFC 9110 13.1.2: "*", or any listed tag equal once a W/ prefix is set aside.
[[nodiscard]] bool etag_matches(std::string_view if_none_match, std::string_view etag);

// 128 random bits from getrandom(2), as 32 lowercase hex digits. Throws std::system_error when
// the kernel has no randomness to give (never after boot on a supported kernel).
[[nodiscard]] std::string random_nonce();

}  // namespace sbx::web
