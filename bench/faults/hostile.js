// Hostile clients for bench/reliability.sh, over raw sockets (any byte can be sent).
//   node hostile.js slow PORT N INTERVAL_MS
//       N connections each send a request head one byte every INTERVAL_MS; prints
//       "slow N closed_by_gateway FIRST_S LAST_S" once every one is closed (or 60 s passed).
//   node hostile.js inject PORT KEY
//       injections through every parameter; one "ok|FAIL status name" line each.
//   node hostile.js keys PORT KEY READONLY_KEY
//       every route without a key, with a wrong key, near misses, the read-only key on writes.
'use strict';
const net = require('net');
const [cmd, port] = [process.argv[2], +process.argv[3]];
const B = '/runtime/webhooks/durabletask';

function raw(method, target, headers = {}, body = '') {
    return new Promise(resolve => {
        const s = net.connect(port, '127.0.0.1');
        const chunks = [];
        let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
        for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
        if ((body || method === 'POST') && !('Content-Length' in headers))
            head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
        s.on('connect', () => s.end(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.from(body)])));
        s.on('data', d => chunks.push(d));
        const done = () => {
            const all = Buffer.concat(chunks);
            const at = all.indexOf('\r\n\r\n');
            const headText = at < 0 ? all.toString('latin1') : all.subarray(0, at).toString('latin1');
            const lines = headText.split('\r\n');
            const status = +((lines[0] || '').split(' ')[1] || 0);
            const hdrs = lines.slice(1).map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
            resolve({status, hdrs, headText, body: at < 0 ? '' : all.subarray(at + 4).toString('latin1')});
        };
        s.on('end', done);
        s.on('error', () => done());
        s.setTimeout(15000, () => s.destroy());
    });
}

// The host's error form: a JSON object with a Message (401, 403, 404 and 405 may be empty).
function errorForm(r) {
    if ([401, 403, 404, 405].includes(r.status) && r.body === '') return true;
    try { return typeof JSON.parse(r.body).Message === 'string'; } catch (e) { return false; }
}
// Nothing the client sent may come back as a header of its own, or raw in one.
function headersClean(r) {
    return !r.hdrs.some(([k, v]) => k === 'set-cookie' || k === 'x-injected' || /[\x00-\x08\x0a-\x1f\x7f]/.test(v)) &&
           !/\r(?!\n)|(?<!\r)\n/.test(r.headText);
}

async function slow() {
    const n = +process.argv[4], iv = +process.argv[5];
    const t0 = Date.now();
    let closed = 0, first = 0, last = 0, left = n;
    const head = Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(4000) + '\r\n\r\n');
    await new Promise(resolve => {
        const stop = setTimeout(resolve, 60000);
        for (let c = 0; c < n; c++) {
            const s = net.connect(port, '127.0.0.1');
            let i = 0;
            const tick = setInterval(() => { if (i < head.length) s.write(head.subarray(i, ++i)); }, iv);
            const end = byGateway => () => {
                if (!tick) return;
                clearInterval(tick);
                if (byGateway) {
                    closed++;
                    const t = (Date.now() - t0) / 1000;
                    if (!first) first = t;
                    last = t;
                }
                s.destroy();
                if (--left === 0) { clearTimeout(stop); resolve(); }
            };
            s.once('end', end(true));
            s.once('error', end(true));
        }
    });
    console.log(`slow ${n} ${closed} ${first.toFixed(2)} ${last.toFixed(2)}`);
    process.exit(0);
}

function clampedPage(r, most = 1000) {
    if (r.status >= 400 && r.status < 500) return true;
    try { const a = JSON.parse(r.body); return r.status === 200 && Array.isArray(a) && a.length <= most; } catch (e) { return false; }
}

async function inject() {
    const key = process.argv[4];
    const K = {'x-functions-key': key};
    const b64 = s => Buffer.from(s).toString('base64');
    // [name, method, target, headers, body, allowed] -- allowed: a predicate on the answer; default 4xx
    const cases = [
        ['OData in an id (quote)', 'GET', `${B}/instances/x'%20or%20PartitionKey%20ne%20'`],
        ['OData in an id (paren)', 'GET', `${B}/instances/x')%20or%20(1%20eq%201`],
        ['OData in a prefix', 'GET', `${B}/instances?instanceIdPrefix=x'%20or%20'1'%20eq%20'1`, {}, '',
         r => r.status === 200 && r.body.trim() === '[]' || r.status >= 400 && r.status < 500],
        ['OData in an entity name', 'GET', `${B}/entities/counter'%20or%20'1'%20eq%20'1/k`],
        ['OData in an entity key', 'GET', `${B}/entities/counter/k'%20or%20'1'%20eq%20'1`],
        ['OData in a status', 'GET', `${B}/instances?runtimeStatus=Completed'%20or%20'1'%20eq%20'1`],
        ['misspelled status on a purge', 'DELETE', `${B}/instances?runtimeStatus=Compelted&createdTimeFrom=2020-01-01T00:00:00Z`],
        ['OData in a time', 'GET', `${B}/instances?createdTimeFrom=2024-01-01T00:00:00Z'%20or%20'1'%20eq%20'1`],
        ['a time that is not one', 'GET', `${B}/instances?createdTimeFrom=yesterday`],
        ['garbage continuation token', 'GET', `${B}/instances`, {'x-ms-continuation-token': 'garbage'}],
        ['OData in a continuation token', 'GET', `${B}/instances`, {'x-ms-continuation-token': b64(`{"nextPartitionKey":"x' or '1' eq '1","nextRowKey":""}`)},
         '', r => r.status === 200 && r.body.trim() === '[]' || r.status >= 400 && r.status < 500],
        ['a 6 KiB continuation token', 'GET', `${B}/instances`, {'x-ms-continuation-token': 'A'.repeat(6000)}],
        ['CR LF in an id (header injection)', 'POST', `${B}/orchestrators/Hello/x%0D%0ASet-Cookie:%20a=b`],
        ['ESC in an id', 'POST', `${B}/orchestrators/Hello/x%1B%5B2J`],
        ['NUL in an id', 'POST', `${B}/orchestrators/Hello/x%00y`],
        ['overlong UTF-8 in an id', 'GET', `${B}/instances/x%C0%80`],
        ['%FF in an id', 'GET', `${B}/instances/x%FF`],
        ['raw control bytes in the target', 'GET', `${B}/instances/x\x1b[2J\x01\x7f`],
        ['CR LF in a reason', 'POST', `${B}/instances/bench-1/terminate?reason=x%0D%0AX-Injected:%201`, K, '',
         r => r.status < 500],
        ['CR LF in an event name', 'POST', `${B}/instances/bench-1/raiseEvent/Ev%0D%0AX-Injected:%201`, K, '"x"',
         r => r.status < 500],
        ['CR LF in a name', 'POST', `${B}/orchestrators/Hel%0D%0AX-Injected:%201lo`],
        ['control bytes in a header', 'GET', `${B}/instances`, {'x-ms-continuation-token': 'a\x01b'}],
        ['path traversal (encoded)', 'GET', `${B}/instances/..%2F..%2F..%2Fetc%2Fpasswd`],
        ['path traversal (dots)', 'GET', `${B}/../../../etc/passwd`],
        ['path traversal (encoded dots)', 'GET', `${B}/instances/%2e%2e/%2e%2e/keys.json`],
        ['duplicate top', 'GET', `${B}/instances?top=1&top=1000`],
        // the host's rule: the first non-blank taskHub wins (docs/http-api.md §1.4)
        ['duplicate taskHub', 'GET', `${B}/instances?taskHub=DurableFunctionsHub&taskHub=Other1`, {}, '',
         r => r.status === 200 || r.status >= 400 && r.status < 500],
        // repeats are joined with ',' (a prefix no id here has): an empty page, or a 4xx
        ['duplicate instanceIdPrefix', 'GET', `${B}/instances?instanceIdPrefix=a&instanceIdPrefix=b`, {}, '',
         r => r.status === 200 && r.body.trim() === '[]' || r.status >= 400 && r.status < 500],
        ['top=1e100', 'GET', `${B}/instances?top=1e100`],
        // a decimal top out of range is clamped into 1..1000 (routes/list.c): a page of at most 1000, or a 4xx
        ['top=18446744073709551617', 'GET', `${B}/instances?top=18446744073709551617`, {}, '', clampedPage],
        ['top=-1', 'GET', `${B}/instances?top=-1`, {}, '', r => clampedPage(r, 1)],
        ['top=0x10', 'GET', `${B}/instances?top=0x10`],
        ['top=1.5', 'GET', `${B}/instances?top=1.5`],
        ['timeout=1e309 on a wait', 'GET', `${B}/instances/bench-1/wait?timeout=1e309`],
        ['timeout=0x10 on a wait', 'GET', `${B}/instances/bench-1/wait?timeout=0x10`],
        ['a year 99999', 'GET', `${B}/instances?createdTimeFrom=99999-01-01T00:00:00Z`],
        // refused by libmicrohttpd's parser before the gateway sees it: its own (HTML) 413
        ['Content-Length 2^64+1', 'POST', `${B}/orchestrators/Hello`, {'Content-Length': '18446744073709551617'}, '',
         r => r.status === 413 || r.status === 400],
    ];
    let bad = 0;
    for (const [name, method, target, headers = {}, body = '', allowed] of cases) {
        const h = Object.assign({}, K, headers);
        const r = await raw(method, target, h, body);
        const ok = (allowed ? allowed(r) : r.status >= 400 && r.status < 500) &&
                   (r.status < 400 || errorForm(r) || name.startsWith('Content-Length')) && headersClean(r);
        if (!ok) bad++;
        console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.status} ${name}${ok ? '' : ' ' + JSON.stringify(r.body.slice(0, 120))}`);
    }
    console.log(`inject ${cases.length} ${bad}`);
}

async function keys() {
    const [key, ro] = [process.argv[4], process.argv[5]];
    const routes = [
        ['GET', '/instances/bench-1', false], ['POST', '/orchestrators/Hello', true],
        ['POST', '/orchestrators/Hello/k-1', true], ['POST', '/instances/bench-1/raiseEvent/Ev', true],
        ['POST', '/instances/bench-1/terminate', true], ['POST', '/instances/bench-1/suspend', true],
        ['POST', '/instances/bench-1/resume', true], ['POST', '/instances/bench-1/restart', true],
        ['POST', '/instances/bench-1/rewind', true], ['GET', '/instances/bench-1/wait', false],
        ['GET', '/instances', false], ['DELETE', '/instances/nope-1', true],
        ['DELETE', '/instances?createdTimeFrom=2030-01-01T00:00:00Z', true], ['DELETE', '/taskhub', true],
        ['GET', '/entities', false], ['GET', '/entities/counter', false], ['GET', '/entities/counter/k', false],
        ['POST', '/entities/counter/k', true], ['DELETE', '/entities/counter/k', true],
        ['GET', '/nope', false],
    ];
    const near = [
        ['no key', null], ['a wrong key', 'wrong-key-0123456789abcdef0123456'], ['an empty key', ''],
        ['the key less its last character', key.slice(0, -1)], ['the key and one more', key + 'x'],
        ['the key upper-cased', key.toUpperCase()], ['the key with a space after', key + ' '],
        ['the key with a NUL and more', key + '\0x'], ['the key with a line feed after', key + '\n'],
        ['the key with a tab before', '\t' + key + 'x'],
        ['the key\'s first half', key.slice(0, key.length / 2)],
    ];
    let n = 0, bad = 0;
    const seen = {};
    for (const [method, path, write] of routes) {
        for (const [what, k] of near) {
            for (const via of ['header', 'query']) {
                if (k === null && via === 'query') continue;
                let target = B + path, h = {};
                if (k !== null && via === 'header') {
                    if (/[\0\n]/.test(k)) continue; // not sendable in a header
                    h['x-functions-key'] = k;
                }
                if (k !== null && via === 'query') target += (path.includes('?') ? '&' : '?') + 'code=' + encodeURIComponent(k);
                const r = await raw(method, target, h, method === 'POST' ? '"x"' : '');
                n++;
                // a NUL inside a value is refused as a bad request (400) or not a key (401)
                const ok = r.status === 401 || (k && /[\0\n]/.test(k) && r.status === 400);
                if (!ok) { bad++; console.log(`FAIL ${r.status} ${method} ${path}: ${what} in the ${via}`); }
                seen[r.status] = (seen[r.status] || 0) + 1;
            }
        }
        if (write) {
            const r = await raw(method, B + path, {'x-functions-key': ro}, method === 'POST' ? '"x"' : '');
            n++;
            if (r.status !== 401 && r.status !== 403) { bad++; console.log(`FAIL ${r.status} ${method} ${path}: the read-only key on a write`); }
            seen['ro' + r.status] = (seen['ro' + r.status] || 0) + 1;
        }
    }
    console.log(`keys ${n} ${bad} ${JSON.stringify(seen)}`);
}

({slow, inject, keys})[cmd]().catch(e => { console.error(e); process.exit(2); });
