// The runs' seccomp filter: built with libseccomp, exported as raw BPF for the Python runtime.
#pragma once

#include <linux/filter.h>

#include <span>
#include <vector>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {

// Default allow; EPERM for the kernel attack surface a Python program never needs (mount, ns,
// ptrace, keyrings, bpf, io_uring, module and clock changes, ...), ENOSYS for clone3 (so glibc
// falls back to clone, whose namespace flags are checked), and KILL_PROCESS for any non-native
// ABI (i386 int 0x80, x32). Errors: Step::seccomp_build. Pure: callable from any thread.
[[nodiscard]] sys::Result<std::vector<sock_filter>> build_run_filter();

// A sealed memfd (CLOEXEC; write/grow/shrink sealed, offset 0) holding `filter` as the raw
// struct sock_filter array: the zygote's fd 4. Errors: Step::memfd.
[[nodiscard]] sys::Result<sys::UniqueFd> filter_memfd(std::span<const sock_filter> filter);

}  // namespace sbx::sandbox
