// getrlimit/setrlimit of RLIMIT_NOFILE for the server process.
#include "app/fd_limit.h"

#include <cerrno>

namespace sbx::app {

sys::Result<FdLimit> raise_nofile_soft_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return sys::SysError{sys::Step::rlimit, errno, "RLIMIT_NOFILE"};
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            return sys::SysError{sys::Step::rlimit, errno, "RLIMIT_NOFILE"};
        }
    }
    return FdLimit{limit.rlim_cur, limit.rlim_max};
}

}  // namespace sbx::app
