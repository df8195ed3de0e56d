// ESLint: the Nest starter's defaults (typescript-eslint's type-checked recommended rules), without Prettier
// (the code base does not use it). TypeScript is checked with the types the tests see (tsconfig.spec.json maps
// `nest-mtls` to the library's sources); plain JavaScript (scripts, the CLI launcher, the Jest preset, the
// installed-package fixtures) with the untyped rules. `npm run lint`; `npm test` runs it first.
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', 'coverage/**', '.scratch/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      sourceType: 'commonjs',
      parserOptions: { project: ['./tsconfig.spec.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    rules: {
      // The Nest starter's choices: `any` is allowed where a value is truly untyped (JSON, third-party shapes).
      '@typescript-eslint/no-explicit-any': 'off',
      // Matching control characters is what log escaping, the tests of it and the binary-file sniff are for.
      'no-control-regex': 'off',
      // An async function without await is how a Promise-returning interface turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Passing on a caught value as it came (it is an Error in practice; wrapping would lose its class).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // A leading underscore says "unused on purpose" (a parameter a signature needs, a property left out).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests and benchmarks read JSON answers, logs and metrics as untyped values on purpose.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Output collected as `out += chunk` (a Buffer); the repo's CommonJS scripts loaded with require.
      '@typescript-eslint/restrict-plus-operands': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      // expect(obj.method) and jest.spyOn pass methods unbound.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs', 'test/fixtures/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const { performance } = require('node:perf_hooks')` names the module it comes from; not a redeclaration.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
