// The OpenAPI document (docs/openapi.json) and the Swagger UI page served at /docs.
#pragma once

#include <string_view>

namespace sbx::api {

// docs/openapi.json as it was at build time (embedded by cmake/embed_file.cmake, checked to be
// JSON then); served as is at GET /openapi.json.
[[nodiscard]] std::string_view openapi_json() noexcept;

// The HTML page at GET /docs: Swagger UI, which the browser loads from the jsDelivr CDN,
// pointed at /openapi.json (as FastAPI's /docs is). The server itself fetches nothing.
[[nodiscard]] std::string_view docs_html() noexcept;

}  // namespace sbx::api
