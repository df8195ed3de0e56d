/**
 * ts-jest, plus one rewrite for Nest 12's ES modules: `import.meta.url` has no
 * CommonJS form, so it becomes the file URL of the module being compiled.
 * Everything else is ts-jest's own compilation.
 */
const { TsJestTransformer } = require('ts-jest');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";

class NestEsmTransformer extends TsJestTransformer {
  process(source, path, options) {
    return super.process(source.replace(IMPORT_META_URL, FILE_URL), path, options);
  }

  processAsync(source, path, options) {
    return super.processAsync(source.replace(IMPORT_META_URL, FILE_URL), path, options);
  }
}

module.exports = { createTransformer: (config) => new NestEsmTransformer(config) };
