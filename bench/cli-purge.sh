#!/usr/bin/env bash
# Purge benchmark (issue 11): N Completed instances, each with History rows, purged
#   1. by `durable purge-history --runtime-status Completed` (straight to storage),
#   2. by the gateway's DELETE instances?runtimeStatus=Completed, following its continuation,
#   3. where dotnet exists, by the framework's own PurgeInstanceHistoryAsync(from, to, statuses)
#      (DurableTask.AzureStorage 2.11.2, the interop worker's purge-filter command),
# each on the same data freshly seeded into a hub of its own, in one run against one
# in-memory Azurite started here. Prints instances per second and the ratios, and checks
# that every instance is gone afterwards.
# usage: bench/cli-purge.sh [N] [EVENTS]   (default 10000 instances, 5 History rows + the sentinel)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
n="${1:-10000}" events="${2:-5}"
bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target durable durable-gateway bench_seed >/dev/null
. scripts/lib/azurite.sh
. scripts/lib/worker.sh
work="$(mktemp -d)"
gw=""
cleanup() { [ -n "$gw" ] && kill "$gw" 2>/dev/null; azurite_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
azurite_start memory "$work"
export AzureWebJobsStorage="$AZURITE_CONNECTION_STRING"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./build/durable-gateway --no-auth --port "$port" --log-level warn >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$port/runtime/webhooks/durabletask"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seed() { ./build/bench/bench_seed "$1" "$n" "$events" 8; }
left() { ./build/durable get-instances --all --show-input false --task-hub-name "$1" | tr -cd '{' | wc -c; }
declare -A rate secs

# A warm-up, untimed: Azurite's first few thousand operations are slower than the rest.
hub="Warm$RANDOM$RANDOM"; ./build/bench/bench_seed "$hub" 1000 "$events" 8
./build/durable purge-history --task-hub-name "$hub" >/dev/null 2>&1

# 1. the command-line client
hub="Cli$RANDOM$RANDOM"; seed "$hub"
t0=$(now_ms)
./build/durable purge-history --runtime-status Completed --task-hub-name "$hub" >"$work/cli.json"
t1=$(now_ms)
grep -q "\"instancesDeleted\":$n}" "$work/cli.json" || { echo "cli-purge: durable purged $(cat "$work/cli.json"), not $n" >&2; exit 1; }
[ "$(left "$hub")" -eq 0 ] || { echo "cli-purge: instances left after durable purge-history" >&2; exit 1; }
secs[cli]=$(( t1 - t0 ))

# 2. the gateway's purge by filter, page after page
hub="Gw$RANDOM$RANDOM"; seed "$hub"
t0=$(now_ms)
token="" total=0
while :; do
    body=$(curl -s -D "$work/h" -X DELETE -H "x-ms-continuation-token: $token" \
        "$base/instances?taskHub=$hub&createdTimeFrom=0001-01-01T00:00:00Z&runtimeStatus=Completed")
    code=$(head -n 1 "$work/h" | cut -d' ' -f2)
    [ "$code" = 404 ] && break
    [ "$code" = 200 ] || { echo "cli-purge: the gateway answered $code: $body" >&2; exit 1; }
    total=$(( total + $(sed 's/.*"instancesDeleted":\([0-9]*\).*/\1/' <<<"$body") ))
    token=$(sed -n 's/^x-ms-continuation-token:[[:space:]]*//Ip' "$work/h" | tr -d '\r ')
    [ -n "$token" ] || break
done
t1=$(now_ms)
[ "$total" -eq "$n" ] || { echo "cli-purge: the gateway purged $total, not $n" >&2; exit 1; }
[ "$(left "$hub")" -eq 0 ] || { echo "cli-purge: instances left after the gateway's purge" >&2; exit 1; }
secs[gateway]=$(( t1 - t0 ))

# 3. the framework's purge, where the .NET SDK is
framework=""
if worker_build 2>"$work/worker-build.log"; then
    hub="Fw$RANDOM$RANDOM"; seed "$hub"
    t0=$(now_ms)
    out=$(worker_cli --hub "$hub" purge-filter runtimeStatus=Completed)
    t1=$(now_ms)
    deleted=$(sed 's/.*"instancesDeleted":\([0-9]*\).*/\1/' <<<"$out")
    [ "$deleted" -eq "$n" ] || { echo "cli-purge: the framework purged $out, not $n" >&2; exit 1; }
    [ "$(left "$hub")" -eq 0 ] || { echo "cli-purge: instances left after the framework's purge" >&2; exit 1; }
    secs[framework]=$(sed 's/.*"ms":\([0-9]*\).*/\1/' <<<"$out")   # the purge call alone, not .NET's start-up
    framework=" (its own timing of the purge call; the process took $(( t1 - t0 )) ms)"
else
    echo "cli-purge: $(head -n 1 "$work/worker-build.log"); the framework's purge is left out"
fi

echo
echo "purge of $n Completed instances with $((events + 1)) History rows each (one in-memory Azurite, $(nproc) cores):"
for who in cli gateway framework; do
    [ -n "${secs[$who]:-}" ] || continue
    rate[$who]=$(python3 -c "print(f'{$n / (${secs[$who]} / 1000):.0f}')")
    case $who in
        cli) label="durable purge-history" ;;
        gateway) label="gateway DELETE instances" ;;
        framework) label="framework PurgeInstanceHistoryAsync" ;;
    esac
    printf '  %-38s %8.1f s %8s instances/s%s\n' "$label" "$(python3 -c "print(${secs[$who]}/1000)")" "${rate[$who]}" \
        "$([ $who = framework ] && echo "$framework")"
done
echo
printf '  durable / gateway:   %.2fx\n' "$(python3 -c "print(${rate[cli]} / ${rate[gateway]})")"
if [ -n "${rate[framework]:-}" ]; then
    printf '  durable / framework: %.2fx\n' "$(python3 -c "print(${rate[cli]} / ${rate[framework]})")"
    printf '  gateway / framework: %.2fx\n' "$(python3 -c "print(${rate[gateway]} / ${rate[framework]})")"
fi
