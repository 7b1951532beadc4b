#!/usr/bin/env bash
# Fuzzing benchmark: every libFuzzer target of tests/fuzz run for SECONDS each
# (default 600), two at a time (DG_FUZZ_JOBS), each from its committed seed
# corpus. Prints per target: executions, executions per second, coverage
# (libFuzzer's cov: edges and ft: features), the corpus it grew (inputs/bytes)
# and crashes, against the reference measured first in the same run: the
# coverage of the seed corpus alone. Exits non-zero on any crash.
# Works from a fresh clone: installs clang-14 and its runtimes (scripts/setup.sh)
# and builds build-fuzz/. What the run found stays in build-fuzz/fuzz-bench/
# (per target: corpus/, artifacts/ with any crash input, log).
# usage: bench/fuzz.sh [SECONDS] [TARGET...]   (run it under nice -n 19 on a shared machine)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs="${1:-600}"
[ $# -gt 0 ] && shift
bash scripts/setup.sh >/dev/null
CC=clang-14 cmake -S . -B build-fuzz -DDG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz >/dev/null
jobs="${DG_FUZZ_JOBS:-2}"
n=$#
[ $n -gt 0 ] || n=9
echo "fuzz: $secs s per target, $jobs at a time (about $(((n + jobs - 1) / jobs * secs / 60)) min), clang $(clang-14 -dumpversion)"
out="build-fuzz/fuzz-bench"
mkdir -p "$out"
set +e
DG_FUZZ_JOBS="$jobs" bash tests/fuzz/run.sh --reference build-fuzz "$secs" "$out" "$@" | tee "$out/report.txt"
rc=${PIPESTATUS[0]}
set -e
awk '/^fuzz [a-z_]+: [0-9]+ runs/ { n++; runs += $3; for (i = 1; i <= NF; i++) if ($i == "crashes") c += $(i + 1) + 0 }
     END { printf "fuzz total: %d targets, %d executions, %d crashes\n", n, runs, c }' "$out/report.txt"
exit $rc
