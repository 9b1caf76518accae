// GET /metrics: the Prometheus text exposition of metrics::Metrics.
#include <boost/beast/http/field.hpp>

#include "api/store_routes.h"
#include "metrics/metrics.h"

namespace sbx::api {

namespace bhttp = boost::beast::http;

void add_metrics_route(http::Router& router, const Backends& b) {
    router.add(bhttp::verb::get, "/metrics",
               [&b](http::RequestContext&, http::Request) -> boost::asio::awaitable<http::Reply> {
                   if (b.metrics == nullptr) {
                       co_return http::detail_response(bhttp::status::not_found, "Not Found");
                   }
                   http::Response res{bhttp::status::ok, 11};
                   res.set(bhttp::field::content_type, metrics::Metrics::kContentType);
                   res.body() = b.metrics->render();
                   res.prepare_payload();
                   co_return res;
               });
}

}  // namespace sbx::api
