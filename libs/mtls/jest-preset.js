/**
 * The Jest preset of nest-mtls (`preset: 'nest-mtls'`): what Jest needs to
 * test a Nest 12 app, Express or Fastify, written in TypeScript.
 *
 * - Every file goes through nest-mtls/jest-transformer: TypeScript through
 *   ts-jest, ES modules (Nest 12's packages, and nested ones such as
 *   @fastify/middie's path-to-regexp) compiled to CommonJS wherever they are,
 *   CommonJS as it is. So nothing in node_modules is left out by a name pattern.
 * - `./x.js` in an import resolves to `./x.ts` (the `nodenext` style of Nest
 *   12's starter, where imports name the compiled file).
 *
 * Your own settings win (Jest merges `transform` and `moduleNameMapper` with
 * them); options for ts-jest go to the transformer:
 * `transform: { '^.+\\.[cm]?[jt]sx?$': ['nest-mtls/jest-transformer', { tsconfig: 'tsconfig.spec.json' }] }`.
 */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.[cm]?[jt]sx?$': require.resolve('./jest-transformer.js'),
  },
  transformIgnorePatterns: [],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
