// Starts instances with ids of its own and records how each was answered, for
// bench/reliability.sh: "ID STATUS MS FORM" lines on stdout, FORM "ok" when a
// refusal is in the host's error form ({"Message": ...} JSON, and Retry-After
// on 503 and 504), else "bad".
//   node starts.js URL_BASE KEY PREFIX WORKERS SECONDS TIMEOUT_MS   start PREFIX-w-i for SECONDS
//   node starts.js URL_BASE KEY - WORKERS 0 TIMEOUT_MS < IDS       start the ids read from stdin once each
'use strict';
const http = require('http');
const [base, key, prefix, workers, seconds, timeoutMs] = process.argv.slice(2);
const url = new URL(base);
const agent = new http.Agent({keepAlive: true, maxSockets: +workers});
const until = Date.now() + 1000 * +seconds;
let ids = null;
if (prefix === '-') ids = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);

function start(id) {
    return new Promise(resolve => {
        const t0 = Date.now();
        const req = http.request({host: url.hostname, port: url.port, method: 'POST', agent,
                                  path: `/runtime/webhooks/durabletask/orchestrators/Hello/${encodeURIComponent(id)}`,
                                  headers: {'x-functions-key': key, 'Content-Type': 'application/json'},
                                  timeout: +timeoutMs}, res => {
            let b = '';
            res.on('data', d => (b += d));
            res.on('end', () => {
                let form = 'ok';
                if (res.statusCode !== 202) {
                    try { if (typeof JSON.parse(b).Message !== 'string') form = 'bad'; } catch (e) { form = 'bad'; }
                    if ((res.statusCode === 503 || res.statusCode === 504) && !res.headers['retry-after']) form = 'bad';
                }
                resolve(`${id} ${res.statusCode} ${Date.now() - t0} ${form}`);
            });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', e => resolve(`${id} 000 ${Date.now() - t0} ${e.message === 'timeout' ? 'timeout' : e.code}`));
        req.end('{"n":1}');
    });
}

async function worker(w) {
    if (ids) {
        while (ids.length) console.log(await start(ids.shift()));
        return;
    }
    for (let i = 0; Date.now() < until; i++) console.log(await start(`${prefix}-${w}-${i}`));
}
Promise.all(Array.from({length: +workers}, (_, w) => worker(w))).then(() => agent.destroy());
