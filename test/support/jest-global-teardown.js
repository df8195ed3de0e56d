/** Jest's globalTeardown (jest.config.js): removes the run's shared test PKI (jest-global-setup.js). */
const { rmSync } = require('node:fs');

module.exports = async function globalTeardown() {
  const dir = process.env.NEST_MTLS_TEST_PKI_CACHE;
  if (dir) rmSync(dir, { recursive: true, force: true });
};
