// BodyParser: hands large bodies to the pool and awaits the result in the session coroutine.
#include "api/body_parser.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/execute_request.h"

namespace sbx::api {

namespace asio = boost::asio;
using Parsed = ApiResult<sandbox::RunRequest>;

asio::awaitable<Parsed> BodyParser::parse(std::string content_type, std::string body,
                                          const config::Config& cfg, std::string request_id) {
    if (body.size() < kOffloadBodyBytes) {
        co_return parse_execute_body(content_type, body, cfg, std::move(request_id));
    }
    // The task owns its inputs, so nothing it reads lives in the awaiting frame.
    auto task = [type = std::move(content_type), text = std::move(body), &cfg,
                 id = std::move(request_id)]() mutable -> asio::awaitable<Parsed> {
        co_return parse_execute_body(type, text, cfg, std::move(id));
    };
    co_return co_await asio::co_spawn(pool_.get_executor(), std::move(task), asio::use_awaitable);
}

}  // namespace sbx::api
