// Host self-test: is each isolation layer available here, and how to fix it when it is not.
#pragma once

#include <string>
#include <vector>

#include "sandbox/cgroup.h"

namespace sbx::sandbox {

struct LayerCheck {
    std::string name;    // "user_namespaces", "clone3", "pidfd", "seccomp", "cgroups"
    bool active = false;
    std::string detail;  // what was observed (errno name, cgroup version and path)
    std::string fix;     // how to enable it; empty when active
};

// Probes each layer in short-lived forked children (the children make only raw system calls,
// so this is safe even with threads running). `cgroups` is the manager chosen at start-up
// (detection has side effects on v2, so it is not repeated here); nullptr = not checked.
[[nodiscard]] std::vector<LayerCheck> run_selftest(const CgroupManager* cgroups);

// The user-namespace probe alone (every namespace a zygote needs, at once), for start-up.
[[nodiscard]] LayerCheck check_user_namespaces();

}  // namespace sbx::sandbox
