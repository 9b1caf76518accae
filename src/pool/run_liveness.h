// After a run's end record: is G the last process of its run? (Decides whether the answer can
// go before G's exit report.)
#pragma once

#include <sys/types.h>

#include "pool/run_prepare.h"

namespace sbx::pool {

// True when G is the only process of the run's group (or none is), besides the run's network
// stack (in the run's group, outside its namespaces: it cannot write to the run's output or
// files). False when that cannot be told (no group, G's pid unknown).
bool alone_in_group(const PreparedRun& run);

// True if any thread of `pid` has a child that has not exited. Every process of a run descends
// from G, and orphans are reparented to G (pid 1 of the run's namespace): G has a live child
// exactly when another process of the run is alive. A child is on this list as soon as fork
// has made it, unlike cgroup.procs, which it joins a moment later. Unreadable: true.
bool has_live_children(pid_t pid);

// With SIGKILL already sent to G: true when G's exit (maybe still under way) is all that is
// left of the run. A fork by one of G's threads fails once SIGKILL is pending, so no process
// can appear after the check; a child forked just before it is G's child.
bool confirm_alone_after_kill(const PreparedRun& run);

}  // namespace sbx::pool
