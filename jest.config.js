/**
 * Two projects: `unit` (test/unit: no servers of ours, no build needed) and
 * `e2e` (test/e2e: real servers on loopback, the built services and package).
 * `npx jest --selectProjects unit` runs the fast half.
 *
 * Nest 12 ships ES modules only. Node loads them from CommonJS
 * (require(esm)), but Jest's module runtime does not: the package's own
 * transformer (libs/mtls/jest-transformer.js, what `preset: 'nest-mtls'`
 * gives a user's app) compiles our TypeScript with ts-jest and every ES
 * module to CommonJS, so every test here runs through what the package ships.
 */
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  // One test PKI per run: test/support/shared-pki.ts.
  globalSetup: '<rootDir>/test/support/jest-global-setup.js',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.js',
  transform: {
    '^.+\\.[cm]?[tj]s$': ['<rootDir>/libs/mtls/jest-transformer.js', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: [],
  // The package's entries, and `nest-mtls/internal` (libs/mtls/src/internal.ts: the internals tests may use).
  // No other deep path resolves: a test that imports libs/mtls/src/<folder>/<file> by path fails here.
  moduleNameMapper: {
    '^nest-mtls$': '<rootDir>/libs/mtls/src',
    '^nest-mtls/(testing|admin|microservices|grpc|fastify|spiffe|app|dev-pki|health|internal)$': '<rootDir>/libs/mtls/src/$1',
  },
};

module.exports = {
  testTimeout: 60000,
  // The longest files first, also on a fresh clone with no timings cached (test/support/jest-sequencer.js).
  testSequencer: '<rootDir>/test/support/jest-sequencer.js',
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  ],
};
