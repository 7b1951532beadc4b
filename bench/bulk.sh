#!/usr/bin/env bash
# Bulk operations benchmark (issue 12): the framework's own client (DurableTask.AzureStorage
# 2.11.2's query and purge API, in the interop worker's process: `bench` in
# tests/interop/worker/Bench.cs) next to the gateway (HTTP with keep-alive from that same
# process), in one run against one in-memory Azurite started here, no worker running:
#   1. purge of 10,000 Completed instances with 8 History rows each: the framework's
#      PurgeInstanceHistoryAsync by filter against the gateway's DELETE instances, each on
#      its own freshly seeded hub;
#   2. list: pages of 100 (of 1,000 instances) followed by continuation, pages/s and p50;
#   3. whole hub: every instance of a 20,000-instance hub through the framework's query, the
#      gateway's host form and its fast form (ranges=R), pages of 1,000;
#   4. counts over those 20,000: GET counts next to a count made from the framework's query
#      (the answers must be equal).
# The seeding (bench/purge/bench_seed.c) is not timed. Needs dotnet (the interop worker).
# usage: bench/bulk.sh [PURGE_N] [SCAN_N] [RANGES]   (defaults 10000 20000 8)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
purge_n="${1:-10000}" scan_n="${2:-20000}" ranges="${3:-8}"
bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target durable-gateway bench_seed >/dev/null
. scripts/lib/azurite.sh
. scripts/lib/worker.sh
worker_build
work="$(mktemp -d)"
gw=""
cleanup() { [ -n "$gw" ] && kill "$gw" 2>/dev/null; azurite_stop || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
azurite_start memory "$work"
export AzureWebJobsStorage="$AZURITE_CONNECTION_STRING"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./build/durable-gateway --no-auth --port "$port" --log-level warn >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$port/runtime/webhooks/durabletask"
seed() { ./build/bench/bench_seed "$@" 2>>"$work/seed.log"; }
bench() { local hub="$1"; shift; worker_cli --hub "$hub" --partitions 4 bench "$@"; }
num() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {'json': json}, {'d': d}))" "$1" "$2"; }
fail() { echo "bulk: $*" >&2; exit 1; }
# A hub's tables, queues and containers go once used, so Azurite stays small.
drop() { curl -fs -o /dev/null -X DELETE "$base/taskhub?taskHub=$1" || fail "could not delete hub $1"; }

# A warm-up, untimed: Azurite's first few thousand operations are slower than the rest.
seed Warm 2000 7 8 hex
bench Warm list "$base" 100 >/dev/null
drop Warm

echo "bulk operations, one in-memory Azurite, $(nproc) cores, framework = DurableTask.AzureStorage 2.11.2 in-process"
# 1. purge by filter, each side on a hub of its own (first: Azurite slows down as it fills)
seed PurgeFw "$purge_n" 7 8
ofw=$(bench PurgeFw purge-framework)
seed PurgeGw "$purge_n" 7 8
ogw=$(bench PurgeGw purge-gateway "$base")
[ "$(num "$ofw" "d['instancesDeleted']")" -eq "$purge_n" ] || fail "the framework purged $ofw"
[ "$(num "$ogw" "d['instancesDeleted']")" -eq "$purge_n" ] || fail "the gateway purged $ogw"
for h in PurgeFw PurgeGw; do
    left=$(worker_cli --hub "$h" list showInput=false | wc -l)
    [ "$left" -eq 0 ] || fail "$left instances left in $h"
    left=$(worker_cli --hub "$h" rows History | wc -l)
    [ "$left" -eq 0 ] || fail "$left History rows left in $h"
done
rf=$(python3 -c "print($purge_n / ($(num "$ofw" "d['ms']") / 1000))")
rg=$(python3 -c "print($purge_n / ($(num "$ogw" "d['ms']") / 1000))")
printf '\npurge by filter, %s Completed instances with 8 History rows each:\n' "$purge_n"
printf '  %-34s %7.1f s  %8.0f instances/s\n' "framework PurgeInstanceHistoryAsync" "$(num "$ofw" "d['ms']/1000")" "$rf"
printf '  %-34s %7.1f s  %8.0f instances/s  (%s requests)\n' "gateway DELETE instances" "$(num "$ogw" "d['ms']/1000")" "$rg" "$(num "$ogw" "d['requests']")"
printf '  gateway / framework: %.2fx instances/s\n' "$(python3 -c "print($rg / $rf)")"
drop PurgeFw; drop PurgeGw

# 2. pages of 100
seed List 1000 2 8 hex
out=$(bench List list "$base" 400)
fw=$(num "$out" "d['framework']['pagesPerSec']") gwr=$(num "$out" "d['gateway']['pagesPerSec']")
printf '\nlist, pages of 100 of 1,000 instances (400 pages each):\n'
printf '  %-34s %8.0f pages/s  p50 %6.2f ms\n' "framework GetOrchestrationStateAsync" "$fw" "$(num "$out" "d['framework']['p50Ms']")"
printf '  %-34s %8.0f pages/s  p50 %6.2f ms\n' "gateway GET instances?top=100" "$gwr" "$(num "$out" "d['gateway']['p50Ms']")"
printf '  gateway / framework: %.2fx pages/s\n' "$(python3 -c "print($gwr / $fw)")"

# 3. and 4. the whole hub, and its counts
drop List
seed Scan "$scan_n" 2 8 hex mixed
out=$(bench Scan scan "$base" 1000 "$ranges")
for who in framework gatewayHostForm gatewayFastForm; do
    [ "$(num "$out" "d['$who']['instances']")" -eq "$scan_n" ] || fail "$who saw $(num "$out" "d['$who']['instances']") instances, not $scan_n"
done
[ "$(num "$out" "d['gatewayFastForm']['distinct']")" -eq "$scan_n" ] || fail "the fast form repeated instances"
fws=$(num "$out" "d['framework']['secs']") hs=$(num "$out" "d['gatewayHostForm']['secs']") fs=$(num "$out" "d['gatewayFastForm']['secs']")
printf '\nwhole hub, %s instances, pages of 1,000:\n' "$scan_n"
printf '  %-34s %7.2f s  %8.0f instances/s\n' "framework query" "$fws" "$(python3 -c "print($scan_n / $fws)")"
printf '  %-34s %7.2f s  %8.0f instances/s  (%s requests)\n' "gateway host form (top=1000)" "$hs" "$(python3 -c "print($scan_n / $hs)")" "$(num "$out" "d['gatewayHostForm']['requests']")"
printf '  %-34s %7.2f s  %8.0f instances/s  (%s requests)\n' "gateway fast form (ranges=$ranges)" "$fs" "$(python3 -c "print($scan_n / $fs)")" "$(num "$out" "d['gatewayFastForm']['requests']")"
printf '  fast form / host form: %.2fx   fast form / framework: %.2fx\n' "$(python3 -c "print($hs / $fs)")" "$(python3 -c "print($fws / $fs)")"

out=$(bench Scan count "$base")
[ "$(num "$out" "d['equal']")" = True ] || fail "counts differ: $out"
gs=$(num "$out" "d['gateway']['secs']") fcs=$(num "$out" "d['framework']['secs']")
printf '\ncounts over %s instances (equal to the framework query'"'"'s count: yes):\n' "$scan_n"
printf '  %-34s %7.3f s  %s\n' "gateway GET counts" "$gs" "$(num "$out" "json.dumps(d['gateway']['answer'], separators=(',',':'))")"
printf '  %-34s %7.3f s\n' "framework query, counted" "$fcs"
printf '  framework / gateway: %.2fx\n' "$(python3 -c "print($fcs / $gs)")"

