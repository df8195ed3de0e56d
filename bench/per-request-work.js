'use strict';
/*
 * What user-service does per request and per connection, counted rather than
 * timed: each adapter runs with bench/count-per-request.js preloaded, serves
 * a warm-up, then keep-alive, full and resumed handshake loads while the
 * preload counts file reads, certificate parses and peer-certificate reads.
 * The per-request path must do no file I/O and parse no certificate; a new
 * connection reads the peer certificate once (its fingerprint finds the
 * cached identity).
 */
const path = require('node:path');
const processes = require('./processes');

const COUNTER = path.join(__dirname, 'count-per-request.js');
const ADAPTERS = [
  ['express', 'Express'],
  ['fastify', 'Fastify'],
];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the counts the service printed on its second SIGUSR2. */
async function countsOf(child) {
  for (let i = 0; i < 100; i++) {
    const line = processes.logOf(child).split('\n').find((l) => l.startsWith('per-request-counts '));
    if (line) return JSON.parse(line.slice('per-request-counts '.length));
    await sleep(20);
  }
  throw new Error('user-service printed no per-request counts');
}

async function measurePerRequestWork({ pki, generator, startUserService, settings }) {
  const user = pki.service('user-service');
  const material = { MTLS_KEY_STORE_PATH: user.p12, MTLS_KEY_STORE_PASSWORD: pki.password, MTLS_TRUST_STORE_PATH: pki.trustStore };
  const results = [];
  for (const [adapter, name] of ADAPTERS) {
    const service = await startUserService(`user-service (${adapter}, counted)`, adapter, material, `counted-${adapter}.log`, ['--require', COUNTER]);
    try {
      const run = (mode, seconds, concurrency) => generator.run({ mode, port: service.port, path: '/users/1', seconds, concurrency, serverPid: service.child.pid });
      await run('full', 1, settings.handshakeConcurrency); // warm-up: the caller's identity is built here, once
      service.child.kill('SIGUSR2'); // counting starts
      await sleep(100);
      await run('keepalive', 1, settings.keepAliveConnections);
      await run('full', 1, settings.handshakeConcurrency);
      await run('resumed', 1, settings.handshakeConcurrency);
      service.child.kill('SIGUSR2');
      results.push({ adapter: name, ...(await countsOf(service.child)) });
    } finally {
      await processes.stop(service.child);
    }
  }
  return results;
}

function perRequestWorkTable(results) {
  const per = (n, d) => (d > 0 ? (n / d).toFixed(n === 0 ? 0 : 3) : 'n/a');
  const lines = [
    '| adapter | requests | connections | file reads per request | certificates parsed per request | peer-certificate reads per connection |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(`| ${r.adapter} | ${r.requests.toLocaleString('en-US')} | ${r.connections.toLocaleString('en-US')} | ${per(r.fileReads, r.requests)} | ${per(r.x509Parses, r.requests)} | ${per(r.peerCertificateReads, r.connections)} |`);
  }
  return lines.join('\n');
}

module.exports = { measurePerRequestWork, perRequestWorkTable };
