'use strict';
/*
 * The TLS options of the bench's reference servers (bench/bare-server.js and
 * bench/nest-fastify-server.js), from their environment: BARE_KEY, BARE_CERT
 * (leaf + chain), BARE_CA (trust store). The same client-certificate demands
 * as user-service: a certificate is required and verified, TLS 1.2 to 1.3.
 */
const { readFileSync } = require('node:fs');

/** The value of a required variable; a missing one stops the server, naming it (`who`: the server's name). */
function need(who, name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${who}: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

/** Key, chain, trust store and the client-certificate demands, for https.createServer or Fastify's `https`. */
function referenceTlsOptions(who) {
  return {
    key: readFileSync(need(who, 'BARE_KEY')),
    cert: readFileSync(need(who, 'BARE_CERT')),
    ca: readFileSync(need(who, 'BARE_CA')),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
  };
}

module.exports = { need, referenceTlsOptions };
