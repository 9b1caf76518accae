// BodyParser: hands large bodies to the pool and awaits the result in the session coroutine.
#include "api/body_parser.h"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <latch>
#include <memory>

#include "api/execute_request.h"

namespace sbx::api {

namespace asio = boost::asio;
using Parsed = ApiResult<sandbox::RunRequest>;

BodyParser::BodyParser(unsigned threads) : pool_(threads) {
    // One task per thread, each waiting for all the others, so every thread runs exactly one.
    // Shared: a task may still be inside the latch when the last arrival wakes this thread.
    auto all_started = std::make_shared<std::latch>(threads);
    for (unsigned i = 0; i < threads; ++i) {
        asio::post(pool_, [all_started] {
            // Linux: PRIO_PROCESS with a thread id sets that thread's nice value alone. Raising
            // one's own nice value needs no privilege; failure only costs the preference.
            (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kParserNice);
            all_started->arrive_and_wait();
        });
    }
    all_started->wait();
}

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
