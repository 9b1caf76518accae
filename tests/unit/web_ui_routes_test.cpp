// /ui: the page and its assets through the route table, the CSP, gzip and ETag negotiation.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>

#include "http/reply.h"
#include "http/request_context.h"
#include "web/ui_assets.h"
#include "web/ui_headers.h"
#include "web/ui_routes.h"

namespace sbx::web {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

http::Response call(const http::Router& router, bhttp::verb method, const std::string& target,
                    std::vector<std::pair<bhttp::field, std::string>> headers = {}) {
    http::Request req{method, target, 11};
    for (auto& [k, v] : headers) req.set(k, v);
    asio::io_context io;
    std::optional<http::Response> out;
    http::RequestContext ctx;
    asio::co_spawn(io, router.dispatch(ctx, std::move(req)),
                   [&](const std::exception_ptr& e, http::Reply r) {
                       if (auto* res = std::get_if<http::Response>(&r); !e && res) {
                           out = std::move(*res);
                       }
                   });
    io.run();
    EXPECT_TRUE(out.has_value());
    return out ? *out : http::Response{};
}

class UiRoutes : public ::testing::Test {
   protected:
    UiRoutes() { add_ui_routes(router); }
    http::Router router;
};

std::string nonce_in(std::string_view csp) {
    std::smatch m;
    std::string s(csp);
    return std::regex_search(s, m, std::regex("'nonce-([0-9a-f]+)'")) ? m[1].str() : "";
}

TEST(UiHeaders, PolicyAllowsNothingInlineButTheStyleNonce) {
    std::string csp = ui_content_security_policy("abc123");
    for (const char* directive :
         {"default-src 'self'", "script-src 'self';", "style-src 'self' 'nonce-abc123';",
          "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'",
          "form-action 'none'", "require-trusted-types-for 'script'", "trusted-types sbx-result",
          "img-src 'self' blob: data:"}) {
        EXPECT_NE(csp.find(directive), std::string::npos) << directive << " in " << csp;
    }
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
    EXPECT_EQ(csp.find('*'), std::string::npos);
}

TEST(UiHeaders, AcceptsGzip) {
    for (const char* yes : {"gzip", "GZip", "deflate, gzip;q=0.5", "br;q=1.0, gzip", "*",
                            "gzip; q=0.001", "identity, *;q=0.1"}) {
        EXPECT_TRUE(accepts_gzip(yes)) << yes;
    }
    for (const char* no : {"", "identity", "br", "gzip;q=0", "gzip;q=0.000", "*;q=0", "xgzip",
                           "gzip;q=0, identity"}) {
        EXPECT_FALSE(accepts_gzip(no)) << no;
    }
}

TEST(UiHeaders, EtagMatching) {
    EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
    EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
    EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
    EXPECT_TRUE(etag_matches(" * ", "\"abc\""));
    EXPECT_FALSE(etag_matches("", "\"abc\""));
    EXPECT_FALSE(etag_matches("\"abcd\"", "\"abc\""));
    EXPECT_FALSE(etag_matches("abc", "\"abc\""));
}

TEST(UiHeaders, NoncesAreFreshHex) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string n = random_nonce();
        EXPECT_TRUE(std::regex_match(n, std::regex("[0-9a-f]{32}"))) << n;
        seen.insert(n);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TEST_F(UiRoutes, PageCarriesItsPolicyAndTheSameNonce) {
    auto res = call(router, bhttp::verb::get, "/ui");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(res[bhttp::field::x_frame_options], "DENY");
    std::string nonce = nonce_in(res["Content-Security-Policy"]);
    ASSERT_EQ(nonce.size(), 32u);
    EXPECT_NE(res.body().find("nonce=\"" + nonce + "\""), std::string::npos);
    EXPECT_EQ(res.body().find(kStyleNoncePlaceholder), std::string::npos);
    EXPECT_EQ(res.body().find("{{"), std::string::npos);
    auto again = call(router, bhttp::verb::get, "/ui");
    EXPECT_NE(nonce_in(again["Content-Security-Policy"]), nonce);
}

TEST_F(UiRoutes, PageHasNoInlineScriptAndEveryAssetItNamesIsServed) {
    std::string page = call(router, bhttp::verb::get, "/ui").body();
    std::regex script("<script\\b([^>]*)>");
    int scripts = 0;
    for (std::sregex_iterator it(page.begin(), page.end(), script), end; it != end; ++it) {
        EXPECT_NE((*it)[1].str().find("src=\"ui/assets/"), std::string::npos) << it->str();
        ++scripts;
    }
    EXPECT_EQ(scripts, 1);
    EXPECT_FALSE(std::regex_search(page, std::regex("\\son[a-z]+=")));
    std::regex ref("\"ui/(assets/[^\"]+)\"");
    int refs = 0;
    for (std::sregex_iterator it(page.begin(), page.end(), ref), end; it != end; ++it) {
        EXPECT_EQ(call(router, bhttp::verb::get, "/ui/" + (*it)[1].str()).result_int(), 200u);
        ++refs;
    }
    EXPECT_EQ(refs, 3);  // icon, stylesheet, script
}

TEST_F(UiRoutes, AssetsAreTypedCachedAndGzippedOnRequest) {
    ASSERT_FALSE(ui_assets().empty());
    for (const UiAsset& a : ui_assets()) {
        std::string path = "/ui/assets/" + std::string(a.name);
        auto plain = call(router, bhttp::verb::get, path);
        EXPECT_EQ(plain.result_int(), 200u) << path;
        EXPECT_EQ(plain[bhttp::field::content_type], a.content_type);
        EXPECT_EQ(plain.body(), a.body);
        EXPECT_EQ(plain[bhttp::field::cache_control], "public, max-age=31536000, immutable");
        EXPECT_EQ(plain[bhttp::field::etag], a.etag);
        EXPECT_EQ(plain[bhttp::field::vary], "Accept-Encoding");
        EXPECT_EQ(plain["X-Content-Type-Options"], "nosniff");
        EXPECT_TRUE(plain[bhttp::field::content_encoding].empty());
        auto packed = call(router, bhttp::verb::get, path,
                           {{bhttp::field::accept_encoding, "gzip, deflate, br"}});
        EXPECT_EQ(packed[bhttp::field::content_encoding], "gzip");
        EXPECT_EQ(packed.body(), a.gzip);
        ASSERT_GE(packed.body().size(), 2u);
        EXPECT_EQ(static_cast<unsigned char>(packed.body()[0]), 0x1fU);
        EXPECT_EQ(static_cast<unsigned char>(packed.body()[1]), 0x8bU);
    }
    std::set<std::string_view> types;
    for (const UiAsset& a : ui_assets()) types.insert(a.content_type);
    EXPECT_TRUE(types.contains("text/javascript; charset=utf-8"));
    EXPECT_TRUE(types.contains("text/css; charset=utf-8"));
    EXPECT_TRUE(types.contains("image/svg+xml"));
}

TEST_F(UiRoutes, MatchingEtagGets304WithoutBody) {
    const UiAsset& a = ui_assets().front();
    auto res = call(router, bhttp::verb::get, "/ui/assets/" + std::string(a.name),
                    {{bhttp::field::if_none_match, "W/" + std::string(a.etag)}});
    EXPECT_EQ(res.result_int(), 304u);
    EXPECT_TRUE(res.body().empty());
    EXPECT_EQ(res[bhttp::field::etag], a.etag);
    res = call(router, bhttp::verb::get, "/ui/assets/" + std::string(a.name),
               {{bhttp::field::if_none_match, "\"other\""}});
    EXPECT_EQ(res.result_int(), 200u);
}

TEST_F(UiRoutes, UnknownAssetIs404AndHeadWorks) {
    EXPECT_EQ(call(router, bhttp::verb::get, "/ui/assets/nope.js").result_int(), 404u);
    EXPECT_EQ(call(router, bhttp::verb::get, "/ui/assets/").result_int(), 404u);
    EXPECT_EQ(call(router, bhttp::verb::post, "/ui").result_int(), 405u);
    EXPECT_EQ(call(router, bhttp::verb::head, "/ui").result_int(), 200u);
    EXPECT_EQ(call(router, bhttp::verb::get, "/ui/").result_int(), 307u);
}

// Issue 19's budget: everything the page can load, gzip-coded, at most 500 KB.
TEST(UiAssets, FitTheSizeBudget) {
    std::size_t total = ui_page_template().size();  // the page itself, uncompressed
    for (const UiAsset& a : ui_assets()) total += a.gzip.size();
    EXPECT_LE(total, 500U * 1000U) << total << " bytes";
}

}  // namespace
}  // namespace sbx::web
