// The routes over the store and the metrics: GET /runs, GET /runs/{id}, the admin API
// (GET/POST /admin/keys, PATCH/DELETE /admin/keys/{id}) and GET /metrics.
#pragma once

#include <string_view>

#include "api/backends.h"
#include "config/config.h"
#include "http/message.h"
#include "http/router.h"
#include "store/error.h"

namespace sbx::api {

// /runs: a key sees its own runs, an admin (and everyone with AUTH_MODE=none) all; another
// key's run is 404, as an unknown one. 503 without a store.
void add_run_routes(http::Router& router, const Backends& backends);

// /admin/keys: admin keys only (403 {"detail":"An admin API key is required"} for others:
// the routes are public knowledge, and the answer confirms no key id).
void add_admin_routes(http::Router& router, const Backends& backends);

// GET /metrics: the Prometheus text format (who may read it: METRICS_AUTH, in authorize()).
void add_metrics_route(http::Router& router, const Backends& backends);

// 503 {"detail":"<what> is unavailable: ..."} with Retry-After for a store that fails.
[[nodiscard]] http::Response store_unavailable(std::string_view what, const store::StoreError& e);

}  // namespace sbx::api
