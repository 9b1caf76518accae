// on_blocking: a blocking call (store, repository) run on the blocking-work pool, awaited from
// an I/O thread's coroutine, which resumes on its own executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace sbx::api {

// Pass `f` as a named variable, never a lambda written in the co_await expression: GCC 12
// destroys such temporaries twice (GCC bug 99576). `f` is copied into the task.
template <class F>
boost::asio::awaitable<std::invoke_result_t<std::decay_t<F>&>> on_blocking(
    boost::asio::any_io_executor ex, F&& f) {
    using T = std::invoke_result_t<std::decay_t<F>&>;
    auto task = [g = std::decay_t<F>(std::forward<F>(f))]() mutable -> boost::asio::awaitable<T> {
        co_return g();
    };
    co_return co_await boost::asio::co_spawn(ex, std::move(task), boost::asio::use_awaitable);
}

}  // namespace sbx::api
