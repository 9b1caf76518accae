// The Session class behind session.h, shared by its two halves: reading requests
// (session.cpp) and answering them (session_reply.cpp). Private to src/http.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/framing.h"
#include "http/reply.h"
#include "http/request_context.h"
#include "http/session.h"
#include "log/log.h"

namespace sbx::http {

class Session {
   public:
    Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<SessionShared> shared);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // `close` closes this session from any thread (the table's eviction, the budget's drop).
    void set_connection(ConnectionTable::Id id, std::function<void()> close) {
        connection_ = id;
        close_ = std::move(close);
    }
    [[nodiscard]] boost::asio::ip::tcp::socket::executor_type executor() {
        return stream_.socket().get_executor();
    }

    boost::asio::awaitable<void> run();

    // On the session's strand: the table gave its place to a new connection, or the budget
    // dropped this body. Closing the socket ends the pending read, and with it the session.
    // A no-op once a WebSocket has taken the connection over.
    void evict();

   private:
    using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

    // What the answer needs to know of the request after it was handed to the handler.
    struct RequestLine {
        std::string method;
        std::string path;
        unsigned version = 11;
        bool keep_alive = true;
        bool head = false;
        std::optional<boost::beast::http::request_header<>> upgrade;  // a WebSocket upgrade
    };

    // Reading (session.cpp).
    boost::asio::awaitable<bool> wait_for_bytes();
    boost::asio::awaitable<std::optional<Request>> read_request();
    boost::asio::awaitable<bool> read_head(Parser& parser);
    boost::asio::awaitable<bool> read_body(Parser& parser);
    boost::asio::awaitable<bool> reserve_body(std::uint64_t bytes);
    boost::asio::awaitable<void> on_head_problem(HeadProblem problem);
    boost::asio::awaitable<void> on_read_error(const boost::system::error_code& ec);
    boost::asio::awaitable<void> answer_and_close(Response res, std::string_view reason);
    boost::asio::awaitable<bool> write(Response& res);

    // Answering (session_reply.cpp); each returns false when the connection is done.
    boost::asio::awaitable<bool> serve(Request request);
    boost::asio::awaitable<std::optional<Reply>> handle(RequestContext& ctx, Request request);
    boost::asio::awaitable<bool> send_response(RequestContext& ctx, const RequestLine& line,
                                               Response res);
    boost::asio::awaitable<bool> send_stream(RequestContext& ctx, const RequestLine& line,
                                             StreamingResponse reply);
    boost::asio::awaitable<bool> take_over(RequestContext& ctx, const RequestLine& line,
                                           WebSocketTakeover takeover);
    void log_request(const RequestContext& ctx, const RequestLine& line, unsigned status,
                     std::initializer_list<log::Field> extra = {}) const;
    std::string new_request_id() { return std::to_string(shared_->next_request_id++); }

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::shared_ptr<SessionShared> shared_;
    boost::asio::ip::tcp::endpoint peer_;
    ConnectionTable::Id connection_ = 0;  // 0 until admitted (close(0) is a no-op)
    std::function<void()> close_;
    bool taken_over_ = false;  // stream_ was moved into a WebSocket
};

}  // namespace sbx::http
