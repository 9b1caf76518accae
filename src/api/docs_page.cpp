// The /docs page: a static HTML shell; Swagger UI's code comes from the CDN, in the browser.
#include "api/openapi_document.h"

namespace sbx::api {

std::string_view docs_html() noexcept {
    // swagger-ui-dist major version 5 reads OpenAPI 3.1.
    static constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SimplePySandbox - Swagger UI</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
</script>
</body>
</html>
)html";
    return kPage;
}

}  // namespace sbx::api
