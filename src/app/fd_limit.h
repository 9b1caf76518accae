// The server's own open-files limit: raised at start so MAX_CONNECTIONS can be reached.
#pragma once

#include <sys/resource.h>

#include "sys/error.h"

namespace sbx::app {

struct FdLimit {
    rlim_t soft = 0;  // after the call
    rlim_t hard = 0;
};

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (the default soft limit,
// often 1024, would cap the server at ~1000 connections). Call after the spawner is forked: the
// spawner, zygotes and runs keep their own limits (each run sets NOFILE_LIMIT explicitly).
// Error: SysError{Step::rlimit, errno, "RLIMIT_NOFILE"}.
[[nodiscard]] sys::Result<FdLimit> raise_nofile_soft_limit();

}  // namespace sbx::app
