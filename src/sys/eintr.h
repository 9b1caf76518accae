// Retry helper for system calls that may fail with EINTR (never used for close()).
#pragma once

#include <cerrno>

namespace sbx::sys {

template <class F>
auto retry_eintr(F&& fn) {
    for (;;) {
        auto r = fn();
        if (r == -1 && errno == EINTR) continue;
        return r;
    }
}

}  // namespace sbx::sys
