// Serving the /ui page and its assets: headers, nonce substitution, gzip, 304.
#include "web/ui_routes.h"

#include <boost/beast/http/field.hpp>
#include <string>

#include "http/reply.h"
#include "http/request_context.h"
#include "web/ui_headers.h"

namespace sbx::web {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kAssetPath = "/ui/assets/";

std::string page_with_nonce(std::string_view page, std::string_view nonce) {
    std::string out;
    out.reserve(page.size() + nonce.size());
    for (;;) {
        auto at = page.find(kStyleNoncePlaceholder);
        out += page.substr(0, at);
        if (at == std::string_view::npos) break;
        out += nonce;
        page.remove_prefix(at + kStyleNoncePlaceholder.size());
    }
    return out;
}

}  // namespace

http::Response ui_page_response(const http::Request& req) {
    std::string nonce = random_nonce();
    http::Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "text/html; charset=utf-8");
    res.set(bhttp::field::cache_control, "no-store");
    res.set("Content-Security-Policy", ui_content_security_policy(nonce));
    set_ui_security_headers(res);
    res.body() = page_with_nonce(ui_page_template(), nonce);
    res.prepare_payload();
    return res;
}

http::Response ui_asset_response(const UiAsset& asset, const http::Request& req) {
    bool gzip = accepts_gzip(req[bhttp::field::accept_encoding]);
    bool fresh = etag_matches(req[bhttp::field::if_none_match], asset.etag);
    http::Response res{fresh ? bhttp::status::not_modified : bhttp::status::ok, req.version()};
    res.set(bhttp::field::cache_control, "public, max-age=31536000, immutable");
    res.set(bhttp::field::etag, asset.etag);
    res.set(bhttp::field::vary, "Accept-Encoding");
    set_ui_security_headers(res);
    if (fresh) return res;  // 304: no body, no Content-Length (RFC 9110 15.4.5)
    res.set(bhttp::field::content_type, asset.content_type);
    if (gzip) res.set(bhttp::field::content_encoding, "gzip");
    res.body() = std::string(gzip ? asset.gzip : asset.body);
    res.prepare_payload();
    return res;
}

void add_ui_routes(http::Router& router) {
    router.add(bhttp::verb::get, "/ui",
               [](http::RequestContext&, http::Request req) -> asio::awaitable<http::Reply> {
                   co_return ui_page_response(req);
               });
    // One templated route: the assets' names are content hashes, unknown ones are 404.
    router.add(bhttp::verb::get, std::string(kAssetPath) + "{name}",
               [](http::RequestContext& ctx, http::Request req) -> asio::awaitable<http::Reply> {
                   for (const UiAsset& asset : ui_assets()) {
                       if (asset.name == ctx.param("name")) co_return ui_asset_response(asset, req);
                   }
                   co_return http::detail_response(bhttp::status::not_found, "Not Found");
               });
}

}  // namespace sbx::web
