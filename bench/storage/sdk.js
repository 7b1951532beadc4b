// The same workload as bench_storage.c through the official @azure/data-tables
// SDK, for a reference measured in the same run. usage: node sdk.js N CONCURRENCY
const { TableClient } = require("@azure/data-tables");

const n = parseInt(process.argv[2] || "2000", 10);
const conc = parseInt(process.argv[3] || "1", 10);
const cs = process.env.AZURITE_CONNECTION_STRING;
if (!cs) { console.error("set AZURITE_CONNECTION_STRING"); process.exit(2); }

async function phase(tc, name, op) {
  const lat = new Array(n);
  let next = 0, errors = 0;
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < n) {
      const i = next++;
      const rk = "r" + String(i).padStart(8, "0");
      const s = process.hrtime.bigint();
      try { await op(rk); } catch (e) { errors++; }
      lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ op: name, client: "@azure/data-tables", n, threads: conc,
    ops_per_s: Math.round(n / secs), p50_ms: +lat[n >> 1].toFixed(3), p99_ms: +lat[Math.floor(n * 0.99)].toFixed(3), errors }));
}

(async () => {
  const table = "benchsdk" + conc;
  const tc = TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true });
  try { await tc.deleteTable(); } catch (e) { /* absent */ }
  await tc.createTable();
  await phase(tc, "insert", (rk) => tc.createEntity({ partitionKey: "bench", rowKey: rk, Name: "E1_HelloSequence",
    RuntimeStatus: "Running", Generation: 1, CreatedTime: new Date() }));
  await phase(tc, "point_get", (rk) => tc.getEntity("bench", rk));
  await tc.deleteTable();
})().catch((e) => { console.error(e); process.exit(1); });
