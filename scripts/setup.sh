#!/usr/bin/env bash
# Installs what the build, the sandbox runtime and the tests need, from Debian's packages.
# Idempotent and quiet when everything is already there. Run as root on Debian 12.
#   scripts/setup.sh           everything
#   scripts/setup.sh --build   only what compiling needs (./test.sh installs the rest meanwhile)
#   scripts/setup.sh --rest    everything but that
set -euo pipefail
cd "$(dirname "$0")/.."
part=all
case "${1:-}" in
    "") ;;
    --build) part=build ;;
    --rest) part=rest ;;
    *) echo "usage: scripts/setup.sh [--build|--rest]" >&2; exit 2 ;;
esac

# Build tools and libraries.
BUILD_PKGS=(g++ cmake ninja-build pkg-config libseccomp-dev libcap-dev libgtest-dev libgmock-dev
            libnftables-dev)
# The store, keys and metrics (issue 16): SQLite (the embedded default store), libpq (the
# PostgreSQL client for DATABASE_URL), OpenSSL's libcrypto (key randomness, SHA-256,
# constant-time compare), prometheus-cpp (metric families and the text format; core only).
STORE_PKGS=(libsqlite3-dev libpq-dev libssl-dev prometheus-cpp-dev)
# Egress for runs (NETWORK_MODE=egress, issue 6): a user-mode network stack per run.
NET_PKGS=(slirp4netns)
# The Python the sandbox runs, and the packages its users expect (issue 4).
RUNTIME_PKGS=(python3 python3-numpy python3-pandas python3-matplotlib python3-requests python3-bs4
              python3-scipy python3-pil python3-yaml)
# The /ui page (issue 19): Debian's esbuild bundles web/; npm fetches the browser libraries that
# web/package-lock.json pins (Node.js and npm themselves: see below).
WEB_PKGS=(esbuild)
# Tests and benchmarks; the browser tests drive Debian's Chromium through python3-selenium.
TEST_PKGS=(python3-pytest bubblewrap iproute2 nftables wrk procps chromium chromium-driver
           python3-selenium)
# Real servers the tests start themselves in temp dirs: PostgreSQL 15 (store tests on both
# engines) and Prometheus (promtool check metrics, and a real scrape).
SERVER_PKGS=(postgresql prometheus)
# Deployment tests (tests/deploy, issue 17): dpkg-shlibdeps (dpkg-dev) computes the package's
# Depends, lintian checks it, systemd-analyze (systemd; not started) verifies the unit; podman
# with runc (crun refuses cgroup v1 hybrid hosts) builds and runs the image, whose base is made
# with mmdebstrap because no image registry is reachable.
DEPLOY_PKGS=(dpkg-dev lintian systemd podman runc mmdebstrap)
# Boost 1.81 headers: see below for why they are not installed system-wide.
BOOST_DEBS=(libboost1.81-dev)

wanted=()
if [ "$part" != rest ]; then wanted+=("${BUILD_PKGS[@]}" "${STORE_PKGS[@]}" "${WEB_PKGS[@]}"); fi
if [ "$part" != build ]; then
    wanted+=("${NET_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}" "${SERVER_PKGS[@]}"
             "${DEPLOY_PKGS[@]}")
fi
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (they build the /ui bundle): any install on PATH will do (a machine may carry
# a newer one than Debian's); Debian's packages when there is none.
if [ "$part" != rest ]; then
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends keeps the image small; python3-scipy pulls libboost-dev (1.74)
    # through python3-pythran, which is why Boost 1.81 is unpacked locally below.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts these as system services on install; the tests run their own copies, so
    # the services this script brought in are switched off again (where systemd runs).
    if [ -d /run/systemd/system ]; then
        for svc in postgresql prometheus; do
            if [[ " ${missing[*]} " == *" $svc "* ]]; then
                systemctl disable --now "$svc" >/dev/null 2>&1 || true
            fi
        done
    fi
fi

# Boost 1.81 (Beast, Asio, JSON, system::result). libboost1.81-dev conflicts with libboost1.74-dev,
# which Debian's python3-scipy needs (via python3-pythran), so the 1.81 headers are unpacked from
# Debian's own package into .deps/ instead of being installed. Boost.JSON is used header-only.
[ "$part" = rest ] && exit 0
BOOST_DIR=.deps/boost1.81
if [ ! -f "$BOOST_DIR/usr/include/boost/version.hpp" ]; then
    echo "setup: unpacking Debian's libboost1.81-dev into $BOOST_DIR"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download "${BOOST_DEBS[@]}" >/dev/null 2>&1) || {
        apt-get update -qq && (cd "$tmp" && apt-get download "${BOOST_DEBS[@]}" >/dev/null)
    }
    mkdir -p "$BOOST_DIR"
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$BOOST_DIR"; done
fi
grep -q 'BOOST_LIB_VERSION "1_81"' "$BOOST_DIR/usr/include/boost/version.hpp"
