#!/usr/bin/env node
'use strict';
/*
 * The baseline of `npm run bench`: Node's bare https.createServer with the
 * same key, chain and trust store as user-service, the same client
 * certificate demands, and a hand-written subject check on /users/1. No
 * framework, no logging. Not for production: the legacy subject object it
 * reads loses DN escaping (see docs/DESIGN notes).
 *
 * Env: PORT (required), HOST (127.0.0.1), BARE_KEY, BARE_CERT (leaf + chain),
 * BARE_CA (trust store), BARE_CRL (optional).
 * Prints `listening on https://HOST:PORT` when ready.
 */
const https = require('node:https');
const { readFileSync } = require('node:fs');
const { need: needOf, referenceTlsOptions } = require('./reference-tls-options');
const { callerAllowed } = require('./reference-subject-check');

const need = (name) => needOf('bare-server', name);


const port = Number(need('PORT'));
const host = process.env.HOST || '127.0.0.1';
const options = { ...referenceTlsOptions('bare-server'), honorCipherOrder: true };
// One CRL per array entry: given a file of several, Node reads only the first, and the other CAs' certificates fail the check.
if (process.env.BARE_CRL) options.crl = readFileSync(process.env.BARE_CRL, 'latin1').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g) ?? [];

const USER = JSON.stringify({ id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' });
const HEALTH = JSON.stringify({ status: 'ok' });
const FORBIDDEN = JSON.stringify({ statusCode: 403, message: 'Forbidden' });
const NOT_FOUND = JSON.stringify({ statusCode: 404, message: 'Not Found' });

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = https.createServer(options, (req, res) => {
  if (req.method !== 'GET') return send(res, 404, NOT_FOUND);
  if (req.url === '/users/1') {
    return callerAllowed(req.socket) ? send(res, 200, USER) : send(res, 403, FORBIDDEN);
  }
  if (req.url === '/health') return send(res, 200, HEALTH);
  return send(res, 404, NOT_FOUND);
});

server.on('error', (err) => {
  process.stderr.write(`bare-server: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => {
  process.stdout.write(`bare-server listening on https://${host}:${server.address().port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Die with the bench: stdin is a pipe from the parent; EOF means the parent is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
