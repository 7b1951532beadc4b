#!/usr/bin/env bash
# Runs every test: installs what is missing, then builds and runs the whole
# CTest suite twice, plain (build/) and under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/), then the libFuzzer targets
# (build-fuzz/, clang-14): each replays its corpus and runs DG_FUZZ_SECONDS
# (default 30), two at a time. Exits non-zero on any failure or crash.
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
# The fuzz targets (tests/fuzz): one summary line each; crash inputs and what
# the runs found stay in build-fuzz/fuzz-ci/, outside the tracked tree.
echo "=== build-fuzz: configure and build (clang-14)"
if CC=clang-14 cmake -S . -B build-fuzz -DDG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-fuzz -j"$jobs"; then
    echo "=== build-fuzz: corpus replay, then ${DG_FUZZ_SECONDS:-30} s per target"
    ctest --test-dir build-fuzz --output-on-failure -j"$jobs" || rc=1
    DG_FUZZ_JOBS="$jobs" bash tests/fuzz/run.sh build-fuzz "${DG_FUZZ_SECONDS:-30}" build-fuzz/fuzz-ci || rc=1
else
    rc=1
fi
# The interop suites (sanitized build only) name each scenario; show them, passing or not.
for f in build-asan/interop-{worker,client,cli,rewind,entities}.txt; do
    [ -f "$f" ] || continue
    echo "=== $(basename "$f" .txt) scenarios"
    grep -E '^(PASS|FAIL|SKIP|setup:|phase|list differential:|rpc mode|legacy mode)|^interop-(worker|client|cli|rewind|entities): [0-9]+ passed' "$f"
done
if [ $rc -eq 0 ]; then echo "=== all tests passed (plain, sanitized and fuzzed)"; else echo "=== TESTS FAILED"; fi
exit $rc
