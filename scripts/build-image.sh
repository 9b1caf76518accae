#!/usr/bin/env bash
# Builds the container image from deploy/container/Containerfile and a pysandbox .deb.
# usage: scripts/build-image.sh [--deb FILE] [--tag NAME] [--base IMAGE] [-- ENGINE-BUILD-ARGS...]
#   --deb   the package to install (default: scripts/package-deb.sh builds one from build/)
#   --tag   image name (default: localhost/pysandbox:<version>)
#   --base  base image (default: the Containerfile's, docker.io/library/debian:bookworm-slim)
# Environment: ENGINE=podman (default) or docker; PODMAN_ARGS, global podman options (e.g.
# "--runtime runc --root DIR"), ignored for docker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deb=
tag=
base=
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) deb=$(realpath "$2"); shift 2 ;;
        --tag) tag=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--deb FILE] [--tag NAME] [--base IMAGE] [-- ENGINE-BUILD-ARGS...]" >&2
           exit 2 ;;
    esac
done
[ -n "$deb" ] || deb=$("$root/scripts/package-deb.sh" | tail -1)
version=$(dpkg-deb -f "$deb" Version)
tag=${tag:-localhost/pysandbox:$version}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$deb" "$ctx/pysandbox_${version}_amd64.deb"
cp "$root/deploy/container/entrypoint.sh" "$ctx/"

engine=${ENGINE:-podman}
cmd=("$engine")
# shellcheck disable=SC2206  # PODMAN_ARGS is a list of options by design
[ "$engine" = podman ] && cmd+=(${PODMAN_ARGS:-})
cmd+=(build -f "$root/deploy/container/Containerfile" -t "$tag")
[ -z "$base" ] || cmd+=(--build-arg "BASE=$base")
"${cmd[@]}" "$@" "$ctx" >&2
echo "$tag"
