#!/usr/bin/env bash
# Builds pysandbox_<version>_amd64.deb from a Release build: the binary, its Python runtime,
# the systemd unit, /etc/pysandbox/pysandbox.env (a conffile) and Depends from dpkg-shlibdeps.
# usage: scripts/package-deb.sh [--build-dir DIR] [--out DIR] [--no-build]
#   --build-dir  the CMake build tree (default: build); configured and built as Release first
#   --out        where the .deb goes (default: the build tree); its path is printed last
#   --no-build   package what DIR already holds (tests do this: they never rebuild the tree)
# Environment: PYSANDBOX_DEB_VERSION overrides the version (default: `pysandbox version`),
# PYSANDBOX_DEB_MAINTAINER the Maintainer field (name <address>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
out=
do_build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) build=$(realpath -m "$2"); shift 2 ;;
        --out) out=$(realpath -m "$2"); shift 2 ;;
        --no-build) do_build=0; shift ;;
        *) echo "usage: $0 [--build-dir DIR] [--out DIR] [--no-build]" >&2; exit 2 ;;
    esac
done
out=${out:-$build}
src="$root/deploy/debian"

if [ "$do_build" = 1 ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target pysandbox
fi
# Only an optimised, uninstrumented build is shipped.
grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" ||
    { echo "package-deb: $build is not a Release build" >&2; exit 1; }
if grep -Eq '^SBX_(SANITIZE|FUZZ):BOOL=ON' "$build/CMakeCache.txt"; then
    echo "package-deb: $build is a sanitizer or fuzzing build" >&2; exit 1
fi
bin="$build/pysandbox"
if [ ! -x "$bin" ] || [ ! -f "$build/runtime/zygote.py" ]; then
    echo "package-deb: $bin or $build/runtime missing: build first" >&2
    exit 1
fi

maintainer=${PYSANDBOX_DEB_MAINTAINER:-SimplePySandbox developers <dev@simplepysandbox.example>}
version=${PYSANDBOX_DEB_VERSION:-$("$bin" version | awk '{print $2}')}
deb="$out/pysandbox_${version}_amd64.deb"
# File times: the last commit's (a reproducible build), or now outside a git tree.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
umask 022

# Files. The binary finds its runtime beside its real path (/proc/self/exe), hence
# /usr/lib/pysandbox/{pysandbox,runtime} and a symlink in /usr/bin.
install -d "$stage/usr/lib/pysandbox" "$stage/usr/bin"
install -m 0755 "$bin" "$stage/usr/lib/pysandbox/pysandbox"
strip --remove-section=.comment --remove-section=.note --strip-unneeded \
    "$stage/usr/lib/pysandbox/pysandbox"
ln -s ../lib/pysandbox/pysandbox "$stage/usr/bin/pysandbox"
(cd "$build/runtime" && find . -name '*.py' -not -path '*/__pycache__/*' | sort) |
    while read -r f; do
        install -D -m 0644 "$build/runtime/$f" "$stage/usr/lib/pysandbox/runtime/$f"
    done

install -D -m 0644 "$src/pysandbox.service" "$stage/lib/systemd/system/pysandbox.service"

# The conffile: every setting, commented out, so that new defaults of later versions apply
# unless the administrator chose a value. 0640: it will hold DATABASE_URL.
install -d "$stage/etc/pysandbox"
{
    echo "# Settings of the pysandbox service (systemd reads this file; see pysandbox(8))."
    echo "# Every setting is shown with its default; uncomment a line to change it."
    echo "# After a change: systemctl restart pysandbox"
    "$bin" env-example | sed -e '1,2d' -e 's/^\([A-Z][A-Z0-9_]*=\)/#\1/'
} >"$stage/etc/pysandbox/pysandbox.env"
chmod 0640 "$stage/etc/pysandbox/pysandbox.env"

doc="$stage/usr/share/doc/pysandbox"
install -D -m 0644 "$src/copyright" "$doc/copyright"
for f in OPERATIONS.md SECURITY.md API.md; do gzip -9n <"$root/docs/$f" >"$doc/$f.gz"; done
{
    echo "pysandbox ($version) unstable; urgency=medium"
    echo
    echo "  * Built from $(git -C "$root" describe --always --dirty 2>/dev/null || echo 'source')."
    echo
    echo " -- $maintainer  $(date -R -u -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
install -d "$stage/usr/share/man/man8"
gzip -9n <"$src/pysandbox.8" >"$stage/usr/share/man/man8/pysandbox.8.gz"
install -D -m 0644 "$src/lintian-overrides" "$stage/usr/share/lintian/overrides/pysandbox"

# Depends: the libraries the binary links (dpkg-shlibdeps) and deploy/runtime-depends. (Debian's
# python3-matplotlib pulls in python3-scipy, and that python3-pythran, g++ and Boost headers,
# through python3-fonttools: ~1 GB in all.)
mkdir -p "$work/src/debian"
printf 'Source: pysandbox\n\nPackage: pysandbox\nArchitecture: amd64\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$stage/usr/lib/pysandbox/pysandbox" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
runtime_deps=$(grep -v '^#' "$root/deploy/runtime-depends" | paste -sd, | sed 's/,/, /g')

install -d -m 0755 "$stage/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "$src/$s" "$stage/DEBIAN/$s"; done
echo /etc/pysandbox/pysandbox.env >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<EOF
Package: pysandbox
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
Depends: $shlibs, $runtime_deps
Section: net
Priority: optional
Description: HTTP service that runs untrusted Python code in Linux sandboxes
 SimplePySandbox answers HTTP requests carrying Python code and runs each in
 a fresh sandbox: user, mount, pid, network, IPC, UTS and cgroup namespaces,
 a seccomp filter and cgroup limits, forked from a pre-imported interpreter.
 It returns what the code printed, the files it wrote and how it ended.
 .
 This package ships the server, its Python runtime and a systemd unit.
EOF
(cd "$stage" && find . -type f -not -path './DEBIAN/*' -printf '%P\0' | sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/control"

mkdir -p "$out"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
