// Shared by the interop drivers (worker-suite.js, client/client-suite.js): the
// environment run-suite.sh exports, HTTP calls to the gateway, the worker's TaskHubClient
// command line, polling, and a scenario runner that prints "PASS name" / "FAIL name: why".
'use strict';
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const { isDeepStrictEqual } = require('node:util');

function need(name) {
    const v = process.env[name];
    if (!v) {
        console.log(`FAIL driver-environment: ${name} is not set (run this through tests/interop/run-suite.sh)`);
        process.exit(2);
    }
    return v;
}

const env = {
    url: need('DG_URL'),
    rpcUrl: process.env.DG_RPC_URL || '',
    key: need('DG_KEY'),
    masterKey: need('DG_MASTER_KEY'),
    otherKey: need('DG_OTHER_KEY'),
    readonlyKey: need('DG_READONLY_KEY'),
    hub: need('DG_HUB'),
    dll: need('DG_WORKER_DLL'),
    partitions: process.env.DG_PARTITIONS || '4',
};
const BASE = `${env.url}/runtime/webhooks/durabletask`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const enc = encodeURIComponent;

/** One HTTP call. path is relative to the webhook base unless it is absolute ("http...")
 *  or starts with "/" (relative to the gateway's origin). opts: key (null = none; default
 *  the system key), json (a value sent as application/json), body, headers, timeoutMs. */
async function api(method, path, opts = {}) {
    const url = /^https?:/.test(path) ? path : path.startsWith('/') ? env.url + path : `${BASE}/${path}`;
    const headers = { ...(opts.headers || {}) };
    const key = opts.key === undefined ? env.key : opts.key;
    if (key !== null) headers['x-functions-key'] = key;
    let body = opts.body;
    if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    let res;
    try {
        res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 30000) });
    } catch (e) {
        throw new Error(`${method} ${redact(url)}: ${e.cause ? e.cause.message || e.cause.code : e.message}`);
    }
    const text = await res.text();
    let json;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json, url, method };
}

function redact(s) {
    return String(s).replace(/code=[^&\s"]*/g, 'code=REDACTED');
}

/** Throws unless res.status is one of codes. */
function expectStatus(res, codes, what) {
    codes = [].concat(codes);
    if (!codes.includes(res.status)) {
        const path = redact(res.url.replace(env.url, ''));
        throw new Error(`${what || `${res.method} ${path}`}: expected ${codes.join(' or ')}, got ${res.status}` +
            (res.text ? ` ${JSON.stringify(redact(res.text.slice(0, 300)))}` : ' (empty body)'));
    }
    return res;
}

function check(cond, msg) {
    if (!cond) throw new Error(msg);
}

function show(v, n = 200) {
    const s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
}

function checkEqual(actual, expected, what) {
    if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

// Command-line runs in flight: ended with the driver, so none outlives a stopped suite.
const children = new Set();
for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
        for (const c of children) c.kill('SIGKILL');
        process.exit(130);
    });
}

/** The worker's TaskHubClient command line: resolves {code, stdout, stderr}. */
function cliRaw(args, timeoutMs = 60000) {
    return new Promise((resolve) => {
        const child = execFile('dotnet', [env.dll, '--hub', env.hub, '--partitions', env.partitions, ...args],
            { timeout: timeoutMs, maxBuffer: 256 << 20, env: { ...process.env, DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' } },
            (err, stdout, stderr) => {
                children.delete(child);
                resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
            });
        children.add(child);
    });
}

/** Like cliRaw, but throws unless it exited with one of the codes (default 0). */
async function cli(args, okCodes = [0]) {
    const r = await cliRaw(args);
    if (!okCodes.includes(r.code)) throw new Error(`worker CLI ${args.slice(0, 3).join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return r;
}

const lines = (text) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

/** The framework's own view of one instance (null when it has none). */
async function cliStatus(id) {
    const r = await cli(['status', '--', id], [0, 1]);
    return r.code === 0 ? JSON.parse(r.stdout) : null;
}

async function cliList(filters = []) {
    return lines((await cli(['list', ...filters])).stdout);
}

/** Polls fn until it returns a truthy value; throws what() on timeout. */
async function waitFor(fn, { timeoutMs = 30000, intervalMs = 150, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (last) return last;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
        await sleep(intervalMs);
    }
}

/** GET instances/{id} through the gateway until pred(body) holds; returns the response. */
async function waitStatus(id, pred, opts = {}) {
    let last;
    const query = opts.query ? `?${opts.query}` : '';
    return waitFor(async () => {
        last = await api('GET', `instances/${enc(id)}${query}`);
        if (last.status !== 200 && last.status !== 202 && last.status !== 404) expectStatus(last, [200, 202], `GET instances/${id}`);
        return last.json && pred(last.json) ? last : null;
    }, { timeoutMs: opts.timeoutMs ?? 30000, what: () => `${id}: last answer ${last ? `${last.status} ${show(last.json)}` : 'none'}` });
}

const isStatus = (...s) => (b) => s.includes(b.runtimeStatus);

/** "2026-01-02T03:04:05.1234567Z" → "2026-01-02T03:04:05Z" (the status object's format). */
function toSeconds(t) {
    if (!t) return t;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(t);
    return m ? `${m[1]}Z` : t;
}

/** Any ISO time → "yyyy-MM-ddTHH:mm:ss.fffffffZ", so texts of the same instant compare equal. */
function toTicks(t) {
    if (typeof t !== 'string') return t;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(Z|[+-]00:00)$/.exec(t);
    return m ? `${m[1]}.${(m[2] || '').padEnd(7, '0')}Z` : t;
}

/** Runs scenarios (objects {name, fn, timeoutMs}) at most `concurrency` at a time and prints
 *  one line each as it finishes. Returns [passed, failed]. */
async function runScenarios(list, concurrency = 4) {
    let next = 0;
    let passed = 0;
    let failed = 0;
    async function one(s) {
        const t0 = Date.now();
        let timer;
        try {
            const timeout = new Promise((_, rej) => {
                timer = setTimeout(() => rej(new Error(`scenario timed out after ${s.timeoutMs || 90000} ms`)), s.timeoutMs || 90000);
            });
            const note = await Promise.race([s.fn(), timeout]);
            passed++;
            console.log(`PASS ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s${note ? `; ${note}` : ''})`);
        } catch (e) {
            failed++;
            console.log(`FAIL ${s.name}: ${redact(e && e.message ? e.message : e).replace(/\s+/g, ' ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } finally {
            clearTimeout(timer);
        }
    }
    async function lane() {
        while (next < list.length) await one(list[next++]);
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
    return [passed, failed];
}

/** Writes the counts for run-suite.sh and exits 0 (all passed) or 1. */
function finish(passed, failed) {
    if (process.env.DG_COUNTS_FILE) fs.writeFileSync(process.env.DG_COUNTS_FILE, `${passed} ${failed}\n`);
    process.exit(failed ? 1 : 0);
}

/** Every page of a list request: follows x-ms-continuation-token until it is empty. */
async function listAll(path, opts = {}) {
    const pages = [];
    const items = [];
    let token = '';
    const seen = new Set();
    for (let i = 0; ; i++) {
        check(i < 2000, `${path}: more than 2000 pages`);
        const res = expectStatus(await api('GET', path, { ...opts, headers: token ? { 'x-ms-continuation-token': token } : {} }), 200);
        check(Array.isArray(res.json), `${path}: the body is not a JSON array: ${show(res.text)}`);
        pages.push(res.json.length);
        items.push(...res.json);
        token = res.headers.get('x-ms-continuation-token') || '';
        if (!token) break;
        check(!seen.has(token), `${path}: continuation token ${show(token)} came back twice`);
        seen.add(token);
    }
    return { items, pages };
}

module.exports = {
    env, BASE, api, expectStatus, check, checkEqual, show, cli, cliRaw, cliStatus, cliList, lines,
    waitFor, waitStatus, isStatus, sleep, enc, toSeconds, toTicks, runScenarios, finish, listAll, redact,
};
