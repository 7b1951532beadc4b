// Helper of rewind_e2e.sh: turns the table rows the interop worker prints ("rows"
// subcommand, one JSON object a line) into text that two runs can be compared with.
//
//   node rewind_rows.js norm FILE ID          every row, normalized, in RowKey order
//   node rewind_rows.js diff BEFORE AFTER ID  for each row of BEFORE that AFTER changed:
//                                             "RowKey: column: old -> new", sorted
//   node rewind_rows.js changes BEFORE AFTER ID
//                                             the same without RowKeys, sorted (a multiset:
//                                             for trees whose episodes may batch differently)
//   node rewind_rows.js field FILE ROWKEY COLUMN
//                                             one column of one row (empty when absent)
//
// Normalizing drops what differs between any two runs: the ETag and the service's
// Timestamp, and replaces times by <time>, 32-hex execution ids by <xid> and the
// instance id ID (also inside longer strings, so "ID-0" becomes "<id>-0") by <id>.
"use strict";
const fs = require("fs");

function load(file) {
    return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function normValue(v, id) {
    if (typeof v !== "string") return v;
    let s = v.split(id).join("<id>");
    s = s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>");
    s = s.replace(/\b[0-9a-f]{32}\b/g, "<xid>");
    return s;
}

function norm(row, id) {
    const out = {};
    for (const k of Object.keys(row).sort()) {
        if (k === "odata.etag" || k === "Timestamp") continue;
        out[k] = normValue(row[k], id);
    }
    return out;
}

function byKey(rows, id) {
    const m = new Map();
    for (const r of rows) m.set(r.RowKey, norm(r, id));
    return m;
}

function changes(before, after, id, withKeys) {
    const b = byKey(load(before), id), a = byKey(load(after), id);
    const lines = [];
    for (const [rk, old] of b) {
        const now = a.get(rk);
        if (!now) {
            lines.push(`${withKeys ? rk + ": " : ""}row removed`);
            continue;
        }
        const cols = new Set([...Object.keys(old), ...Object.keys(now)]);
        const diffs = [];
        for (const c of [...cols].sort()) {
            const o = JSON.stringify(old[c]), n = JSON.stringify(now[c]);
            if (o !== n) diffs.push(`${c}: ${o === undefined ? "(absent)" : o} -> ${n === undefined ? "(absent)" : n}`);
        }
        if (diffs.length) lines.push(`${withKeys ? rk + ": " : ""}${old.EventType || "(no type)"}: ${diffs.join("; ")}`);
    }
    return lines.sort();
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
    case "norm": {
        const rows = load(args[0]).sort((x, y) => (x.RowKey < y.RowKey ? -1 : x.RowKey > y.RowKey ? 1 : 0));
        for (const r of rows) console.log(JSON.stringify(norm(r, args[1])));
        break;
    }
    case "diff":
        for (const l of changes(args[0], args[1], args[2], true)) console.log(l);
        break;
    case "changes":
        for (const l of changes(args[0], args[1], args[2], false)) console.log(l);
        break;
    case "field": {
        const r = load(args[0]).find((x) => x.RowKey === args[1]);
        const v = r ? r[args[2]] : undefined;
        console.log(v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
        break;
    }
    default:
        console.error("usage: rewind_rows.js norm|diff|changes|field ...");
        process.exit(2);
}
