#!/usr/bin/env bash
# Sets up what is missing, builds Release and starts the service (127.0.0.1:8000 by default).
# Any argument is passed to `pysandbox serve` (e.g. --port 9000); environment and .env apply too.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
exec ./build/pysandbox serve "$@"
