// on_pool: runs a blocking function (a store call) on the blocking-work pool and resumes the
// awaiting coroutine on its own executor with the result.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace sbx::jobs {

// `fn` must not throw (store calls return results). A cancelled awaiter still waits for it.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> on_pool(boost::asio::any_io_executor pool, F fn) {
    using R = std::invoke_result_t<F&>;
    co_return co_await boost::asio::co_spawn(
        pool, [f = std::move(fn)]() mutable -> boost::asio::awaitable<R> { co_return f(); },
        boost::asio::use_awaitable);
}

}  // namespace sbx::jobs
