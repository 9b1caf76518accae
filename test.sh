#!/usr/bin/env bash
# Sets up everything, builds, and runs every test (build/), then builds only the unit tests with
# ASan+UBSan (build-asan/) and runs them again. Options:
#   --sanitize   build everything with ASan+UBSan (build-asan/) and run the unit and integration tests
#   --fuzz       after the normal suite, run each libFuzzer target for FUZZ_SECONDS (default 60)
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
started=$SECONDS
phase() { echo "test.sh: $1 after $((SECONDS - started)) s"; }
jobs=$(nproc)
# Any sanitizer report fails its test: ASan (with LeakSanitizer) halts on its first report, UBSan
# is built without recovery (-fno-sanitize-recover) and told to halt here too, with the stack.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# build-asan/: ASan+UBSan; with targets named, only those and what they link are built.
sanitized() {
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSBX_SANITIZE=ON >/dev/null
    cmake --build build-asan -j "$jobs" ${1:+--target $1}
}

if [ "$mode" = sanitize ]; then
    ./scripts/setup.sh
    sanitized
    (cd build-asan && ctest --output-on-failure --timeout 600 -L 'unit|integration')
    exit
fi

# Only what compiling needs first; the packages the tests need (the Python stack, Chromium,
# PostgreSQL, podman...) are installed while the compiler runs, and after them the container
# tests' base image is made (downloads and unpacking: tests/deploy/container_base.py; the test
# waits for it, or makes it if this failed).
./scripts/setup.sh --build
phase "build packages ready"
mkdir -p build
rm -f build/setup-rest.done
(
    ./scripts/setup.sh --rest && echo ok >build/setup-rest.done
    /usr/bin/python3 tests/deploy/container_base.py build/tests/deploy/cache >build/container-base.log 2>&1
) >build/setup-rest.log 2>&1 &
rest=$!
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
phase "build done"
while [ ! -f build/setup-rest.done ]; do
    if ! kill -0 "$rest" 2>/dev/null && [ ! -f build/setup-rest.done ]; then
        cat build/setup-rest.log >&2
        echo "test.sh: installing the test packages failed" >&2
        exit 1
    fi
    sleep 1
done
phase "test packages ready"
(cd build && ctest --output-on-failure --timeout 600)
phase "tests done"

sanitized unit_tests
(cd build-asan && ctest --output-on-failure --timeout 600 -L unit)
phase "sanitized unit tests done"

if [ "$mode" = fuzz ]; then
    command -v clang++ >/dev/null || apt-get install -y -qq --no-install-recommends clang >/dev/null
    CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DSBX_FUZZ=ON \
        -DSBX_WERROR=OFF >/dev/null
    cmake --build build-fuzz -j "$jobs" --target fuzz_execute_body fuzz_base64 fuzz_text
    for target in execute_body base64 text; do
        work=$(mktemp -d)
        cp -r "tests/fuzz/corpus/$target/." "$work/"
        echo "fuzz: $target for ${FUZZ_SECONDS:-60} s"
        "./build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="${FUZZ_SECONDS:-60}" \
            -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -4
        rm -rf "$work"
    done
    echo "fuzz: no crash, leak or assertion"
fi
