// CallbackClient: resolve, check, connect to the checked address, send, read the status.
#include "jobs/callback_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace sbx::jobs {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A receiver's answer is read only for its status: a body beyond this is not waited for.
constexpr std::uint64_t kMaxAnswerBytes = 64 * 1024;

bhttp::request<bhttp::string_body> make_request(const CallbackTarget& t, std::string body,
                                                std::string signature, std::string job_id) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.target, 11};
    const bool default_port = t.port == (t.tls ? 443 : 80);
    const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    req.set(bhttp::field::host, default_port ? host : host + ":" + std::to_string(t.port));
    req.set(bhttp::field::user_agent, "pysandbox-callback/" SBX_VERSION);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::connection, "close");
    req.set("X-Signature", signature);
    req.set("X-Job-Id", job_id);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

template <class Stream>
asio::awaitable<DeliveryResult> send_and_read_status(
    Stream& stream, const bhttp::request<bhttp::string_body>& req) {
    auto [wec, written] = co_await bhttp::async_write(stream, req, kTuple);
    if (wec) co_return DeliveryResult{std::nullopt, "send: " + wec.message(), false};
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    auto [rec, read] = co_await bhttp::async_read_header(stream, buf, parser, kTuple);
    if (rec) co_return DeliveryResult{std::nullopt, "answer: " + rec.message(), false};
    co_return DeliveryResult{parser.get().result_int(), {}, false};
}

}  // namespace

CallbackClient::CallbackClient(const AddressPolicy& policy, std::chrono::seconds timeout)
    : policy_(policy), timeout_(timeout), tls_(asio::ssl::context::tls_client) {
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(asio::ssl::verify_peer);
}

asio::awaitable<DeliveryResult> CallbackClient::post(const CallbackTarget& t, std::string body,
                                                     std::string signature, std::string job_id) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [ec, found] = co_await resolver.async_resolve(t.host, std::to_string(t.port), kTuple);
    if (ec)
        co_return DeliveryResult{std::nullopt, "resolve " + t.host + ": " + ec.message(), false};
    std::vector<tcp::endpoint> permitted;
    std::string refused;
    for (const auto& entry : found) {
        auto why = policy_.refusal(entry.endpoint().address(), t.port);
        if (why) {
            refused = *why;
        } else {
            permitted.push_back(entry.endpoint());
        }
    }
    // Any refused address refuses the name: a name that also points into the host or a
    // private range is a rebinding attempt or a mistake either way.
    if (!refused.empty() || permitted.empty()) {
        co_return DeliveryResult{std::nullopt, "callback address refused: " + refused, true};
    }
    beast::tcp_stream tcp_stream(ex);
    tcp_stream.expires_after(timeout_);
    auto [cec, ep] = co_await tcp_stream.async_connect(permitted, kTuple);
    if (cec) co_return DeliveryResult{std::nullopt, "connect: " + cec.message(), false};
    auto req = make_request(t, std::move(body), std::move(signature), std::move(job_id));
    if (!t.tls) co_return co_await send_and_read_status(tcp_stream, req);
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), tls_);
    if (!SSL_set_tlsext_host_name(tls.native_handle(), t.host.c_str())) {
        co_return DeliveryResult{std::nullopt, "TLS: cannot set the server name", true};
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(t.host));
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) co_return DeliveryResult{std::nullopt, "TLS handshake: " + hec.message(), false};
    co_return co_await send_and_read_status(tls, req);
}

}  // namespace sbx::jobs
