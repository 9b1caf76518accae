// HTTP message types shared by the server, the route table and the API handlers.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace sbx::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The request id (RequestContext::id) on every response, also set on the request handed to a
// handler (any client value is overwritten), so a client report can be matched with the log.
inline constexpr std::string_view kRequestIdHeader = "X-Request-ID";

// A response with a JSON body, Content-Type application/json and Content-Length set.
[[nodiscard]] Response json_response(boost::beast::http::status status, std::string json_body);

// {"detail": "<detail>"} (detail must be plain ASCII without quotes or backslashes: used for
// the server's own fixed texts, which need no JSON library).
[[nodiscard]] Response detail_response(boost::beast::http::status status, std::string_view detail);

}  // namespace sbx::http
