#!/bin/sh
# Container entrypoint: prepares what the sandboxes need from the container, then becomes the
# server (same arguments). Both steps use only CAP_SYS_ADMIN, which the server needs anyway,
# and touch only the container's own mount and cgroup namespaces. Why each is needed:
# docs/OPERATIONS.md, "Container".
set -eu

# 1. A fully visible /proc. Engines mask parts of /proc (/proc/kcore, read-only /proc/sys, ...);
# the kernel then refuses the fresh /proc each sandbox mounts in its own user namespace (EPERM),
# unless an unmasked proc instance exists somewhere in the mount namespace. Mounting one here,
# out of the way, avoids --security-opt unmask=/proc/* (podman), systempaths=unconfined (docker)
# and procMount: Unmasked (Kubernetes: only with hostUsers: false).
proc_is_masked() {
    # Any mount below /proc (other than binfmt_misc, on a permanently empty directory) hides part.
    awk '$5 ~ "^/proc/" && $5 != "/proc/sys/fs/binfmt_misc" { found = 1 } END { exit !found }' \
        /proc/self/mountinfo
}

visible_proc() {
    dir=/run/pysandbox-proc
    if grep -q " $dir " /proc/self/mountinfo; then return; fi
    mkdir -p "$dir"
    mount -t proc -o nosuid,nodev,noexec proc "$dir" ||
        echo "entrypoint: cannot mount proc on $dir (needs CAP_SYS_ADMIN; AppArmor unconfined)" >&2
}

# 2. A writable view of the container's own cgroup. Engines mount /sys/fs/cgroup read-only
# (podman: unless --security-opt unmask=/sys/fs/cgroup; docker has no such flag). Only in a
# private cgroup namespace: with the host's, these mounts would be the host's hierarchy.
own_cgroup_namespace() {
    # Every line of /proc/self/cgroup ends in ":/" when the namespace's root is our own group.
    ! grep -qv ':/$' /proc/self/cgroup
}

writable_cgroups() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        set -- /sys/fs/cgroup                   # v2: one hierarchy
    else
        set -- /sys/fs/cgroup/*/               # v1: one mount per controller
    fi
    for m in "$@"; do
        [ -w "$m" ] && continue                  # access(W_OK) fails with EROFS
        mount -o remount,bind,rw "$m" ||
            echo "entrypoint: cannot make $m writable (needs CAP_SYS_ADMIN)" >&2
    done
}

if [ "$(id -u)" = 0 ]; then
    if proc_is_masked; then visible_proc; fi
    if [ -d /sys/fs/cgroup ] && own_cgroup_namespace; then writable_cgroups; fi
fi
exec /usr/bin/pysandbox "$@"
