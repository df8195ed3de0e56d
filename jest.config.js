/**
 * Unit and end-to-end tests. End-to-end tests start real servers on loopback.
 *
 * Nest 12 ships ES modules only. Node 20 loads them from CommonJS
 * (require(esm)), but Jest's module runtime does not, so Jest compiles
 * @nestjs/* to CommonJS with the same ts-jest transformer as our sources.
 */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['<rootDir>/test/support/jest-transformer.js', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  moduleNameMapper: {
    '^nest-mtls$': '<rootDir>/libs/mtls/src',
    '^nest-mtls/(.*)$': '<rootDir>/libs/mtls/src/$1',
  },
  testTimeout: 60000,
};
