'use strict';
/*
 * Preloaded into user-service by `npm run bench` (node --require) for one
 * short run per adapter: counts the work the per-request path must not do
 * (file reads, certificate parsing, peer-certificate reads) and the requests
 * and connections served, and prints the counts as one JSON line on SIGUSR2.
 * Counting starts at the first SIGUSR2 (after the warm-up); the bench reads
 * the counts after its measured run.
 */
const fs = require('node:fs');
const crypto = require('node:crypto');
const tls = require('node:tls');
const https = require('node:https');

const counts = { requests: 0, connections: 0, fileReads: 0, x509Parses: 0, peerCertificateReads: 0 };
let counting = false;

function wrap(owner, name, counter) {
  const original = owner[name];
  if (typeof original !== 'function') return;
  owner[name] = function counted(...args) {
    if (counting) counts[counter]++;
    return original.apply(this, args);
  };
}

for (const name of ['readFileSync', 'readFile', 'openSync', 'open', 'statSync', 'stat', 'readSync', 'read']) wrap(fs, name, 'fileReads');
for (const name of ['readFile', 'open', 'stat']) wrap(fs.promises, name, 'fileReads');
const X509 = crypto.X509Certificate;
crypto.X509Certificate = class CountedX509Certificate extends X509 {
  constructor(...args) {
    super(...args);
    if (counting) counts.x509Parses++;
  }
};
wrap(tls.TLSSocket.prototype, 'getPeerCertificate', 'peerCertificateReads');
wrap(tls.TLSSocket.prototype, 'getPeerX509Certificate', 'peerCertificateReads');

const emit = https.Server.prototype.emit;
https.Server.prototype.emit = function countedEmit(event, ...args) {
  if (counting && event === 'request') counts.requests++;
  // Connections as accepted (every one completes its handshake in this bench): `secureConnection` is not emitted through
  // `emit` since the revocation gate holds it back and calls its listeners itself.
  if (counting && event === 'connection') counts.connections++;
  return emit.call(this, event, ...args);
};

process.on('SIGUSR2', () => {
  if (!counting) {
    counting = true;
    return;
  }
  process.stdout.write(`per-request-counts ${JSON.stringify(counts)}\n`);
});
