// Socket-level clients for test_clients.sh (node is already needed for Azurite).
//   node clients.js post PORT BYTES [chunked]   POST a body without Expect: prints "status N" or "error CODE"
//   node clients.js dribble PORT MS [head|body] [N]  N connections (default 1) each send a request head (or a
//                                               body) one byte every MS ms: a "closed SECONDS" line as the gateway closes each
//   node clients.js hold PORT N MS              open N idle connections, then a request on one more:
//                                               prints the first line of its answer, its Retry-After and the seconds
'use strict';
const http = require('http');
const net = require('net');
const [cmd, port] = [process.argv[2], +process.argv[3]];

if (cmd === 'post') {
    const bytes = +process.argv[4], chunked = process.argv[5] === 'chunked';
    const opts = {host: '127.0.0.1', port, method: 'POST', path: '/runtime/webhooks/durabletask/orchestrators/Big',
                  headers: chunked ? {} : {'Content-Length': bytes}};
    let done = false;
    const req = http.request(opts, res => {
        let b = '';
        res.on('data', d => (b += d));
        res.on('end', () => { done = true; console.log('status', res.statusCode, b); });
    });
    req.on('error', e => { if (!done) console.log('error', e.code); });
    const chunk = Buffer.alloc(65536, 'a');
    let left = bytes;
    const pump = () => {
        while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!req.write(chunk.subarray(0, n))) return req.once('drain', pump);
        }
        req.end();
    };
    pump();
} else if (cmd === 'dribble') {
    const ms = +process.argv[4], body = process.argv[5] === 'body', n = +(process.argv[6] || 1);
    for (let c = 0; c < n; c++) {
        const s = net.connect(port, '127.0.0.1');
        const t0 = Date.now();
        const data = body ? Buffer.from('x'.repeat(1000))
                          : Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(1000) + '\r\n\r\n');
        if (body) s.write('POST /runtime/webhooks/durabletask/orchestrators/Slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
        let i = 0, done = false;
        const timer = setInterval(() => { if (i < data.length) s.write(data.subarray(i, ++i)); }, ms);
        const end = () => {
            if (done) return;
            done = true;
            clearInterval(timer);
            console.log('closed', ((Date.now() - t0) / 1000).toFixed(2));
            s.destroy();
        };
        s.on('data', () => {});
        s.on('end', end);
        s.on('error', end);
    }
} else if (cmd === 'hold') {
    const n = +process.argv[4], ms = +process.argv[5];
    const held = [];
    for (let i = 0; i < n; i++) held.push(net.connect(port, '127.0.0.1').on('error', () => {}));
    setTimeout(() => {
        const t0 = Date.now();
        const s = net.connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
        let b = '';
        const out = why => {
            const line = b.split('\r\n')[0] || why;
            const ra = (b.match(/\r\nRetry-After: *([^\r]*)/i) || [])[1] || '-';
            const json = b.includes('\r\n\r\n{"Message":"') ? 'json' : 'nojson';
            console.log(line.replace(/ /g, '_'), ra, json, ((Date.now() - t0) / 1000).toFixed(3));
            held.forEach(h => h.destroy());
            s.destroy();
        };
        s.on('data', d => { b += d; if (/\r\n\r\n/.test(b) && (/200 OK/.test(b) ? /}$/.test(b) : /Connection: close/i.test(b) && /}$/.test(b))) out(); });
        s.on('end', () => out('closed'));
        s.on('error', e => out(e.code));
    }, ms);
} else {
    console.error('usage: see the head of clients.js');
    process.exit(2);
}
