// Zygote: readiness, liveness and run requests over the zygote's control socket.
#include "pool/zygote.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>

#include "log/log.h"
#include "pool/run_protocol.h"
#include "sys/pidfd.h"

namespace sbx::pool {
namespace asio = boost::asio;
namespace json = boost::json;
using sys::Result;
using sys::Step;
using sys::SysError;

std::string_view to_string(ZygoteKind k) {
    switch (k) {
        case ZygoteKind::lean: return "lean";
        case ZygoteKind::full: return "full";
        case ZygoteKind::cold: return "cold";
    }
    return "?";
}

Zygote::Zygote(const asio::any_io_executor& ex, ZygoteKind kind, ZygoteProcess proc)
    : kind_(kind),
      pidfd_(std::move(proc.pidfd)),
      pid_(proc.pid),
      control_fd_(proc.control.get()),
      channel_(ex, std::move(proc.control), Step::zygote_protocol) {}

Zygote::~Zygote() {
    channel_.close();  // EOF: a cold zygote exits after its run; a warm one after its runs
}

asio::awaitable<Result<void>> Zygote::wait_ready(std::chrono::milliseconds timeout) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto which = co_await (channel_.receive() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 1) co_return SysError{Step::zygote_start, ETIMEDOUT, "no ready message"};
    auto msg = std::move(std::get<0>(which));
    if (!msg) co_return msg.error();
    if (msg->type() != "ready") co_return SysError{Step::zygote_start, EPROTO, std::string(msg->type())};
    SBX_CO_TRY(auto ready, decode_zygote_ready(msg->body));
    info_.python_version = std::move(ready.python);
    info_.preloaded = std::move(ready.preloaded);
    info_.failed = std::move(ready.failed);
    info_.packages = std::move(ready.packages);
    info_.seccomp_instructions = ready.seccomp_instructions;
    co_return Result<void>{};
}

asio::awaitable<void> Zygote::watch() {
    for (;;) {
        auto msg = co_await channel_.receive();
        if (!msg) {
            if (!is_eof(msg.error()) && msg.error().err != ECANCELED) {
                log::warn("zygote control error", {{"zygote", pid_}, {"error", msg.error().render()}});
            }
            break;
        }
        // Nothing else is sent on the control socket after `ready`: liveness is EOF's absence.
    }
    alive_.store(false);
}

Result<void> Zygote::send_run(const json::object& body, std::span<const int> fds) {
    if (!alive()) return SysError{Step::zygote_protocol, EPIPE, "zygote is gone"};
    return send_message(control_fd_, body, fds);
}

void Zygote::finish() { ::shutdown(control_fd_, SHUT_WR); }

void Zygote::kill() {
    if (pidfd_) (void)sys::raw_pidfd_send_signal(pidfd_.get(), SIGKILL);
    alive_.store(false);
}

}  // namespace sbx::pool
