#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz for a bounded time each and prints
# one summary line per target; exits non-zero when any target crashed (or
# leaked, or timed out on one input, or did not run).
#
# usage: tests/fuzz/run.sh [--reference] BUILD_DIR SECONDS OUT_DIR [TARGET...]
#   BUILD_DIR  a build configured with -DDG_FUZZ=ON and built (the targets are
#              BUILD_DIR/tests/fuzz/fuzz_<name>)
#   SECONDS    how long each target runs (-max_total_time)
#   OUT_DIR    per target: corpus/ (what the run found, started afresh), artifacts/
#              (crash inputs), log; nothing is written into the source tree
#   TARGET     default: every target; DG_FUZZ_JOBS (default 2) run at once
#   --reference  also replay each seed corpus alone first and print its coverage
#              (the reference the run's coverage is compared with)
# The committed corpus tests/fuzz/corpus/<name>/ (seeds and the inputs of
# defects found) is read, never written: every run replays it first.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
reference=0
if [ "${1:-}" = "--reference" ]; then reference=1; shift; fi
if [ $# -lt 3 ]; then
    sed -n '5,11p' "$0" >&2
    exit 2
fi
build="$1" secs="$2" out="$3"
shift 3
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(router token json_body entity batch xml account keys message)
jobs="${DG_FUZZ_JOBS:-2}"
mkdir -p "$out"

# One target's run; its figures go to $out/$t/summary.
run_one() {
    local t="$1" w="$out/$1" bin="$build/tests/fuzz/fuzz_$1" seeds="$here/corpus/$1"
    rm -rf "$w"
    mkdir -p "$w/corpus" "$w/artifacts"
    if [ ! -x "$bin" ]; then
        echo "fuzz $t: no binary $bin" >"$w/summary"
        echo 1 >"$w/rc"
        return
    fi
    local ref=""
    if [ $reference -eq 1 ]; then
        "$bin" -runs=0 "$seeds" >"$w/reference.log" 2>&1
        ref="$(grep -E 'INITED|DONE' "$w/reference.log" | tail -1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/p')"
    fi
    local start end rc
    start=$(date +%s)
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$w/artifacts/" "$w/corpus" "$seeds" >"$w/log" 2>&1
    rc=$?
    end=$(date +%s)
    local execs eps cov ft corp crashes
    execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$w/log" | tail -1)"
    eps="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$w/log" | tail -1)"
    cov="$(grep -E '^#[0-9]+' "$w/log" | grep -E ' cov: ' | tail -1)"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$cov")"
    corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$cov")"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$cov")"
    crashes="$(find "$w/artifacts" -type f | wc -l)"
    local line
    line="fuzz $t: ${execs:-?} runs in $((end - start)) s (${eps:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, crashes $crashes"
    if [ -n "$ref" ]; then
        line="$line; seeds alone: cov ${ref% *}, ft ${ref#* }"
        [ -n "${cov:-}" ] && [ "${ref% *}" -gt 0 ] &&
            line="$line ($(awk -v a="$cov" -v b="${ref% *}" 'BEGIN { printf "%.2f", a / b }')x cov)"
    fi
    if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
        line="$line: FAILED (exit $rc)"
        for f in "$w"/artifacts/*; do [ -f "$f" ] && line="$line"$'\n'"  input: $f"; done
        # The sanitizer's verdict and the frames in the project's own code.
        line="$line"$'\n'"$(grep -E '==ERROR|runtime error|^SUMMARY|ALARM|out-of-memory|^ *#[0-9]+ .* in [^ ]+ /' "$w/log" |
            grep -vE 'fuzzer::|/usr/|compiler-rt|sanitizer_common' | head -25 | sed 's/^/  | /')"
        rc=1
    else
        line="$line: ok"
    fi
    echo "$line" >"$w/summary"
    echo $rc >"$w/rc"
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$t" &
    pids+=($!)
done
wait
pids=()
fail=0
for t in "${targets[@]}"; do
    cat "$out/$t/summary"
    [ "$(cat "$out/$t/rc" 2>/dev/null || echo 1)" -eq 0 ] || fail=1
done
exit $fail
