// Listener: bind, accept loop, one strand + session coroutine per connection.
#include "http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <string>

#include "http/listen_address.h"
#include "http/session.h"
#include "log/log.h"
#include "log/throttle.h"

namespace sbx::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// A flood must not flood the log: one line per kind of event and second, with a count.
constexpr auto kLogInterval = std::chrono::seconds(1);

// Logs what admitting a connection cost, at most once per kLogInterval per kind.
class AdmissionLog {
   public:
    void note(ConnectionTable::Admit result, std::size_t limit) {
        switch (result) {
            case ConnectionTable::Admit::admitted:
                return;
            case ConnectionTable::Admit::admitted_by_eviction:
                if (auto n = evicted_.note()) {
                    log::warn("connections closed for new ones: MAX_CONNECTIONS reached",
                              {{"limit", limit},
                               {"closed", *n},
                               {"which", "longest waiting for a request head"}});
                }
                return;
            case ConnectionTable::Admit::refused:
                if (auto n = refused_.note()) {
                    log::warn("connections refused: MAX_CONNECTIONS reached, all busy",
                              {{"limit", limit}, {"refused", *n}});
                }
                return;
        }
    }
    void accept_failed(const boost::system::error_code& ec) {
        if (auto n = accept_failed_.note()) {
            log::warn("accept failed", {{"error", ec.message()}, {"count", *n}});
        }
    }

   private:
    log::Throttle evicted_{kLogInterval};
    log::Throttle refused_{kLogInterval};
    log::Throttle accept_failed_{kLogInterval};
};

// co_spawn completion: the only place an exception escaping a session or the accept loop lands.
void log_coroutine_end(std::string_view what, const std::exception_ptr& e) {
    if (e) log::error(what, {{"error", log::describe(e)}});
}

asio::awaitable<void> accept_loop(asio::io_context& io, tcp::acceptor& acceptor,
                                  std::shared_ptr<SessionShared> shared) {
    auto token = asio::as_tuple(asio::use_awaitable);
    AdmissionLog admission_log;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), token);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // EMFILE/ENFILE and friends: log, back off briefly instead of spinning.
            admission_log.accept_failed(ec);
            asio::steady_timer t(acceptor.get_executor(), kAcceptRetryDelay);
            co_await t.async_wait(token);
            continue;
        }
        auto start = admit_session(std::move(socket), shared);  // refused: closed already
        admission_log.note(start.admission.result, shared->connections.capacity());
        if (!start.session) continue;
        asio::co_spawn(start.strand, run_session(std::move(start.session)),
                       [](const std::exception_ptr& e) { log_coroutine_end("session failed", e); });
    }
}

sys::SysError bind_error(const boost::system::error_code& ec, const config::Config& cfg) {
    return sys::SysError{sys::Step::socket, ec.value(), cfg.host + ":" + std::to_string(cfg.port)};
}

}  // namespace

Server::Server(asio::io_context& io, const config::Config& cfg, Handler handler)
    : io_(io),
      cfg_(cfg),
      shared_(std::make_shared<SessionShared>(cfg.max_connections,
                                              cfg.effective_max_buffered_body_bytes())),
      acceptor_(asio::make_strand(io)) {
    shared_->handler = std::move(handler);
    shared_->header_timeout = cfg.http_header_timeout;
    shared_->read_timeout = cfg.http_read_timeout;
    shared_->idle_timeout = cfg.http_idle_timeout;
    shared_->max_body_bytes = cfg.max_body_bytes;
}

Server::~Server() = default;

sys::Result<std::uint16_t> Server::start() {
    auto address = resolve_listen_address(io_, cfg_.host);
    if (!address) return address.error();
    boost::system::error_code ec;
    tcp::endpoint endpoint{*address, cfg_.port};
    if (acceptor_.open(endpoint.protocol(), ec); ec) return bind_error(ec, cfg_);
    if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec)
        return bind_error(ec, cfg_);
    if (acceptor_.bind(endpoint, ec); ec) return bind_error(ec, cfg_);
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return bind_error(ec, cfg_);
    }
    std::uint16_t port = acceptor_.local_endpoint(ec).port();
    if (ec) return bind_error(ec, cfg_);
    if (!is_loopback(*address)) {  // the one place this is said (not by its text: 127.0.0.2)
        log::warn("listening on a non-loopback address: the API has no authentication",
                  {{"host", cfg_.host}, {"address", address->to_string()}});
    }
    log::info("listening", {{"host", cfg_.host}, {"port", port}});
    asio::co_spawn(acceptor_.get_executor(), accept_loop(io_, acceptor_, shared_),
                   [](const std::exception_ptr& e) { log_coroutine_end("accept loop failed", e); });
    return port;
}

void Server::stop() {
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        if (acceptor_.is_open()) acceptor_.close(ignored);
    });
}

}  // namespace sbx::http
