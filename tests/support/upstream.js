// A stand-in function app for the pass-through tests (tests/integration/gateway/test_proxy.sh).
// usage: node upstream.js   -> prints "port=N" on its first line, listens on 127.0.0.1.
//   ANY  /echo          answers JSON {method, url, headers, rawHeaders, bodyBytes, sha256} after reading the body
//   GET  /big?bytes=N   N bytes of a repeating pattern (&chunked=1: no Content-Length)
//   POST /sink          reads the body at up to ?rate=BYTES per 100 ms, then answers {bodyBytes, sha256}
//   POST /start         202 with Location and a check-status body whose links point at this server
//   GET  /slow?ms=N     answers after N ms
//   GET  /hop           an answer carrying hop-by-hop headers
//   GET  /drop          closes the connection without an answer
// Every socket is closed on SIGTERM; the process exits by itself after 10 minutes.
'use strict';
const http = require('http');
const crypto = require('crypto');

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const origin = `http://127.0.0.1:${server.address().port}`;
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const finish = (f) => req.on('end', f);
  if (u.pathname === '/sink') {
    const rate = Number(u.searchParams.get('rate') || 0);
    if (rate > 0) {
      req.pause();
      const tick = setInterval(() => {
        let got = 0;
        let chunk;
        while (got < rate && (chunk = req.read()) !== null) { hash.update(chunk); bytes += chunk.length; got += chunk.length; }
        if (req.readableEnded) clearInterval(tick);
      }, 100);
      req.on('end', () => { clearInterval(tick); res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify({ bodyBytes: bytes, sha256: hash.digest('hex') })); });
      req.on('readable', () => {});
      return;
    }
  }
  req.on('data', (c) => { hash.update(c); bytes += c.length; });
  switch (u.pathname) {
    case '/echo':
    case '/sink':
      finish(() => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: bytes, sha256: hash.digest('hex') }));
      });
      return;
    case '/big': {
      const n = Number(u.searchParams.get('bytes') || 0);
      const chunked = u.searchParams.get('chunked') === '1';
      res.setHeader('Content-Type', 'application/octet-stream');
      if (!chunked) res.setHeader('Content-Length', String(n));
      const block = Buffer.alloc(65536);
      for (let i = 0; i < block.length; i++) block[i] = i & 0xff;
      let left = n;
      const pump = () => {
        while (left > 0) {
          const k = Math.min(left, block.length);
          left -= k;
          if (!res.write(k === block.length ? block : block.subarray(0, k))) { res.once('drain', pump); return; }
        }
        res.end();
      };
      finish(pump);
      return;
    }
    case '/start':
      finish(() => {
        const id = 'abc123';
        const base = `${origin}/runtime/webhooks/durabletask/instances/${id}`;
        const q = '?taskHub=TestHub&connection=Storage&code=appkey';
        res.statusCode = 202;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Location', base + q);
        res.setHeader('Retry-After', '1');
        // Members that are not links keep the upstream's origin; spacing is unusual on purpose.
        res.end(`{"id":"${id}", "note":"${origin}/stays",\n "statusQueryGetUri" : "${base}${q}",` +
          `"sendEventPostUri":"${base}/raiseEvent/{eventName}${q}","terminatePostUri":"${base}/terminate?reason={text}&taskHub=TestHub",` +
          `"purgeHistoryDeleteUri":"${base}${q}","restartPostUri":"${base}/restart${q}","suspendPostUri":"${base}/suspend?reason={text}",` +
          `"resumePostUri":"${base.replace(/\//g, '\\/')}\\/resume","nested":{"statusQueryGetUri":"${base}"}}`);
      });
      return;
    case '/slow':
      finish(() => setTimeout(() => res.end('slow'), Number(u.searchParams.get('ms') || 1000)));
      return;
    case '/hop':
      finish(() => {
        res.setHeader('Connection', 'keep-alive, X-Up-Private');
        res.setHeader('X-Up-Private', 'secret');
        res.setHeader('Keep-Alive', 'timeout=5');
        res.setHeader('Proxy-Authenticate', 'Basic');
        res.setHeader('Upgrade', 'h2c');
        res.setHeader('X-Up-Public', 'kept');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.end('hop');
      });
      return;
    case '/drop':
      finish(() => req.socket.destroy());
      return;
    default:
      finish(() => { res.statusCode = 404; res.end('no such path'); });
  }
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => console.log(`port=${server.address().port}`));
process.on('SIGTERM', () => { server.closeAllConnections(); process.exit(0); });
setTimeout(() => process.exit(0), 600000).unref();
