#!/usr/bin/env bash
# Runs every test: installs what is missing, then builds and runs the whole
# CTest suite twice, plain (build/) and under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/). Exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh || exit 1
jobs="$(nproc 2>/dev/null || echo 2)"
rc=0
run_suite() {
    local dir="$1"; shift
    echo "=== $dir: configure and build"
    cmake -S . -B "$dir" "$@" >/dev/null || return 1
    cmake --build "$dir" -j"$jobs" || return 1
    echo "=== $dir: ctest"
    ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || rc=1
rm -f build-asan/interop-*.txt
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DDG_SANITIZE=ON || rc=1
# The interop suites (sanitized build only) name each scenario; show them, passing or not.
for f in build-asan/interop-{worker,client,cli,rewind,entities}.txt; do
    [ -f "$f" ] || continue
    echo "=== $(basename "$f" .txt) scenarios"
    grep -E '^(PASS|FAIL|SKIP|setup:|phase|list differential:|rpc mode|legacy mode)|^interop-(worker|client|cli|rewind|entities): [0-9]+ passed' "$f"
done
if [ $rc -eq 0 ]; then echo "=== all tests passed (plain and sanitized)"; else echo "=== TESTS FAILED"; fi
exit $rc
