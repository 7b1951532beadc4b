#!/usr/bin/env bash
# Storage client benchmark: table inserts and point-gets through durable-gateway's
# C client and through the @azure/data-tables SDK, against one in-memory Azurite
# started here, sequentially and with 4-way concurrency. Prints both and the ratio.
# usage: bench/storage.sh [N]   (default 2000 operations per phase)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
n="${1:-2000}"
bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target bench_storage >/dev/null
. scripts/lib/azurite.sh
work="$(mktemp -d)"
trap 'azurite_stop; rm -rf "$work"' EXIT
azurite_start memory "$work"
for conc in 1 4; do
    ./build/bench/bench_storage "$n" "$conc" > "$work/c$conc.json"
    node bench/storage/sdk.js "$n" "$conc" > "$work/sdk$conc.json"
done
node - "$work" <<'JS'
const fs = require("fs"), dir = process.argv[2];
const rows = (f) => fs.readFileSync(dir + "/" + f, "utf8").trim().split("\n").map(JSON.parse);
console.log("op         conc  client              ops/s    p50 ms   p99 ms  conns/1000 calls  errors");
for (const conc of [1, 4]) {
  const c = rows("c" + conc + ".json"), s = rows("sdk" + conc + ".json");
  for (const op of ["insert", "point_get"]) {
    const a = c.find((r) => r.op === op), b = s.find((r) => r.op === op);
    const line = (r, conns) => console.log(`${op.padEnd(10)} ${String(conc).padStart(4)}  ${r.client.padEnd(18)} ${String(r.ops_per_s).padStart(7)} ${r.p50_ms.toFixed(3).padStart(8)} ${r.p99_ms.toFixed(3).padStart(8)}  ${conns.padStart(16)}  ${String(r.errors).padStart(6)}`);
    line(a, a.connections_per_1000.toFixed(2));
    line(b, "n/a");
    console.log(`${"".padEnd(16)}ratio durable-gateway / SDK: ${(a.ops_per_s / b.ops_per_s).toFixed(2)}x throughput, ${(a.p50_ms / b.p50_ms).toFixed(2)}x p50 latency`);
  }
}
JS
