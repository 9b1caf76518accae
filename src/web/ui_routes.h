// The /ui routes: the playground page and its content-hashed assets, served from the binary.
#pragma once

#include "http/message.h"
#include "http/router.h"
#include "web/ui_assets.h"

namespace sbx::web {

// Registers GET (and so HEAD) /ui and /ui/assets/<name> for every embedded asset.
void add_ui_routes(http::Router& router);

// GET /ui: the page, with a fresh style nonce in its CSP and in the page (Cache-Control:
// no-store, since the nonce changes), Content-Type text/html, the security headers.
[[nodiscard]] http::Response ui_page_response(const http::Request& req);

// GET /ui/assets/<name>: the asset (gzip-coded when the request accepts it; Vary:
// Accept-Encoding), its ETag, Cache-Control immutable for a year (the name changes with the
// bytes); 304 without a body when If-None-Match matches.
[[nodiscard]] http::Response ui_asset_response(const UiAsset& asset, const http::Request& req);

}  // namespace sbx::web
