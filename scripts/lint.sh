#!/usr/bin/env bash
# The format and static-analysis gate of STYLE.md §10, run by ./test.sh:
#   - clang-format (.clang-format) on every C++ file of src/, tests/ and bench/: any difference fails;
#   - clang-tidy (.clang-tidy, every finding an error) on every translation unit of src/.
# A whole clang-tidy pass costs ~30 min of CPU on two cores, nearly all of it parsing Boost, so
# units proven clean are recorded in scripts/tidy-clean.txt by a key: the SHA-256 of the unit's
# path, its preprocessed text with comments (so a NOLINT counts), .clang-tidy and the clang-tidy
# version. A unit is analysed again whenever anything it includes changes; the check fails for
# a unit that is not recorded and has findings. Tests are formatted, not analysed (gtest's macros).
#
# Usage: scripts/lint.sh            check (what ./test.sh runs)
#        scripts/lint.sh --format   rewrite the files in place with clang-format
#        scripts/lint.sh --update   analyse every unit not recorded, record the clean ones
#                                   (after fixing findings; commit the manifest with the fix)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=check
case "${1:-}" in
    "") ;;
    --format) mode=format ;;
    --update) mode=update ;;
    *) echo "usage: scripts/lint.sh [--format|--update]" >&2; exit 2 ;;
esac
jobs=$(nproc)
manifest=scripts/tidy-clean.txt
mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h')

if [ "$mode" = format ]; then
    printf '%s\0' "${sources[@]}" | xargs -0 -P "$jobs" -n 20 clang-format -i
    exit
fi

mkdir -p build-lint
if ! printf '%s\0' "${sources[@]}" | xargs -0 -P "$jobs" -n 20 clang-format --dry-run --Werror \
        2>build-lint/format.log; then
    grep -m 40 'error:' build-lint/format.log >&2 || true
    echo "lint: files not formatted as .clang-format says; fix with scripts/lint.sh --format" >&2
    exit 1
fi

# A compile database without the precompiled header (clang-tidy cannot read GCC's).
cmake -S . -B build-lint -G Ninja -DCMAKE_BUILD_TYPE=Release -DSBX_PCH=OFF >/dev/null
touch "$manifest"
root=$(pwd)
tidy_version=$(clang-tidy --version | sha256sum | cut -c1-16)
config_hash=$(sha256sum .clang-tidy | cut -c1-16)

# Prints "<key> <file>" for each unit of src/: the key of its current inputs.
unit_keys() {
    /usr/bin/python3 - "$root" <<'EOF'
import json, sys
root = sys.argv[1]
for entry in json.load(open(root + "/build-lint/compile_commands.json")):
    f = entry["file"]
    if not f.startswith(root + "/src/"):
        continue
    args = entry.get("arguments") or entry["command"].split()
    # Preprocess only, with comments, without line markers (they carry absolute paths).
    kept, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = a != "-c"
            continue
        if a.startswith("-M") or a == f:
            continue
        kept.append(a)
    print("\t".join([f[len(root) + 1:], entry["directory"], args[0]] + kept))
EOF
}
export tidy_version config_hash
key_of() {  # file dir compiler flags...
    local file=$1 dir=$2 cc=$3
    shift 3
    {
        echo "$file $tidy_version $config_hash"
        (cd "$dir" && "$cc" "$@" -E -P -C "$OLDPWD/$file" 2>/dev/null)
    } | sha256sum | cut -c1-64
}
export -f key_of

failed=0
todo=()
while IFS=$'\t' read -r -a unit; do
    key=$(key_of "${unit[@]}")
    if ! grep -qx "$key ${unit[0]}" "$manifest"; then todo+=("$key ${unit[0]}"); fi
done < <(unit_keys)
echo "lint: ${#todo[@]} unit(s) of src/ to analyse with clang-tidy"
[ "${#todo[@]}" -eq 0 ] && exit 0

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
printf '%s\n' "${todo[@]}" | xargs -P "$jobs" -L 1 sh -c '
    if clang-tidy -p build-lint --quiet --extra-arg=-Wno-unknown-warning-option "$2" >"$0/$(echo "$2" | tr / _).log" 2>&1; then
        echo "$1 $2" >>"$0/clean"
    fi' "$results" 2>/dev/null || true
for entry in "${todo[@]}"; do
    file=${entry#* }
    if ! grep -qx "$entry" "$results/clean" 2>/dev/null; then
        failed=1
        grep -E 'warning:|error:' "$results/$(echo "$file" | tr / _).log" | head -20 >&2 || true
    fi
done
if [ "$mode" = update ] && [ -f "$results/clean" ]; then
    # Drop the older keys of the units analysed now, then record the clean ones.
    grep -vF -f <(printf ' %s\n' "${todo[@]#* }") "$manifest" >"$results/kept" || true
    sort -u "$results/kept" "$results/clean" -o "$manifest"
fi
if [ "$failed" -ne 0 ]; then
    echo "lint: clang-tidy findings above (fix them, then scripts/lint.sh --update)" >&2
    exit 1
fi
