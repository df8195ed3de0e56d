/**
 * Jest's globalSetup (jest.config.js): one directory per run where the first
 * `TestPki.create()` writes the test PKI (keys, certificates, PKCS#12, CRLs)
 * and every later one copies it from, instead of generating a PKI per test
 * file (see test/support/shared-pki.ts); the stores made by openssl and keytool
 * are shared the same way (test/support/tool-made-stores.ts). Both projects run this: the second
 * finds the directory already made.
 */
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  // Node's compile cache (Node 22+; Node 20 ignores it) for the services the tests start: test/support/spawn-service.ts.
  if (!process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = join(tmpdir(), 'nest-mtls-test-compile-cache');
  if (!process.env.NEST_MTLS_TEST_PKI_CACHE) process.env.NEST_MTLS_TEST_PKI_CACHE = mkdtempSync(join(tmpdir(), 'nest-mtls-run-pki-'));
};
