// GidPool: the group ids that tell one run's network traffic from another's on the host.
#pragma once

#include "sys/id_pool.h"

namespace sbx::network {

// One gid per run's network stack, held while it lives (least recently returned first).
using GidPool = sys::IdPool;
using GidLease = sys::IdLease;

}  // namespace sbx::network
