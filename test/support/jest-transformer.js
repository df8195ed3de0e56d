/**
 * ts-jest, plus rewrites for Nest 12's ES modules (and @nestjs/terminus'):
 * `import.meta.url` has no CommonJS form, so it becomes the file URL of the
 * module being compiled, `import.meta.dirname` and `import.meta.filename`
 * CommonJS' `__dirname` and `__filename`; `import.meta.resolve(x)` becomes `require.resolve(x)`;
 * and `const require = createRequire(import.meta.url)` would redeclare
 * CommonJS' own `require`, so it is dropped.
 * Everything else is ts-jest's own compilation.
 */
const { TsJestTransformer } = require('ts-jest');

const CREATE_REQUIRE = /^const require = createRequire\(import\.meta\.url\);$/gm;
const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const IMPORT_META_RESOLVE = /\bimport\.meta\.resolve\(/g;
const IMPORT_META_DIRNAME = /\bimport\.meta\.dirname\b/g;
const IMPORT_META_FILENAME = /\bimport\.meta\.filename\b/g;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";

/** Part of the cache key: change it when the rewrites change, so Jest does not serve code transformed the old way. */
const REWRITES_VERSION = 'nest-esm-rewrites-4';

function rewrite(source) {
  return source.replace(CREATE_REQUIRE, '// (CommonJS: require is the module\'s own)').replace(IMPORT_META_URL, FILE_URL).replace(IMPORT_META_RESOLVE, 'require.resolve(')
    .replace(IMPORT_META_DIRNAME, '__dirname')
    .replace(IMPORT_META_FILENAME, '__filename');
}

class NestEsmTransformer extends TsJestTransformer {
  process(source, path, options) {
    return super.process(rewrite(source), path, options);
  }

  processAsync(source, path, options) {
    return super.processAsync(rewrite(source), path, options);
  }

  getCacheKey(source, path, options) {
    return `${super.getCacheKey(source, path, options)}:${REWRITES_VERSION}`;
  }

  async getCacheKeyAsync(source, path, options) {
    return `${await super.getCacheKeyAsync(source, path, options)}:${REWRITES_VERSION}`;
  }
}

module.exports = { createTransformer: (config) => new NestEsmTransformer(config) };
