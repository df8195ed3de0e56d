/** Unit and end-to-end tests. End-to-end tests start real servers on loopback. */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleNameMapper: {
    '^nest-mtls$': '<rootDir>/libs/mtls/src',
    '^nest-mtls/(.*)$': '<rootDir>/libs/mtls/src/$1',
  },
  testTimeout: 60000,
};
