// Building JSON responses: headers every response of ours carries.
#include "http/message.h"

#include <boost/beast/http/field.hpp>

namespace sbx::http {

namespace bhttp = boost::beast::http;

Response json_response(bhttp::status status, std::string json_body) {
    Response res{status, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = std::move(json_body);
    res.prepare_payload();
    return res;
}

Response detail_response(bhttp::status status, std::string_view detail) {
    std::string body = R"({"detail":")";
    body += detail;
    body += R"("})";
    return json_response(status, std::move(body));
}

}  // namespace sbx::http
