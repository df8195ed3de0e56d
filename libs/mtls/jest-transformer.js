/**
 * nest-mtls/jest-transformer: Jest's transformer for a Nest 12 app, used by
 * the preset (`preset: 'nest-mtls'`; see jest-preset.js).
 *
 * Nest 12 ships ES modules, which Jest's CommonJS runtime cannot load, and so
 * do some of their dependencies, nested where a name pattern would miss them
 * (e.g. @fastify/middie's own path-to-regexp). So every file Jest loads comes
 * here, and:
 * - TypeScript (.ts, .mts, .cts, .tsx) is compiled by ts-jest, with the
 *   options given to this transformer (ts-jest's: `tsconfig`, ...), to
 *   CommonJS: your tsconfig.json (or `tsconfig` given as an object), with
 *   `module: commonjs` over it (Nest 12's starter says `nodenext`, under which
 *   ts-jest emits ES modules in an ES-module app, which Jest's CommonJS
 *   runtime cannot run). A `tsconfig` given as a file path is used as it is;
 * - an ES module in JavaScript (.mjs, or .js under a package.json with
 *   "type": "module") is compiled to CommonJS by TypeScript's transpiler;
 * - other JavaScript (CommonJS) is returned as it is.
 * `import.meta.url`, `.dirname`, `.filename` and `.resolve()` have no
 * CommonJS form: they become the module's file URL, `__dirname`,
 * `__filename` and `require.resolve()`; and `const require =
 * createRequire(import.meta.url)` would redeclare CommonJS' own `require`, so
 * it is dropped.
 *
 * Needs `ts-jest` (and the `typescript` it uses: 4.3 to 6.x; with TypeScript
 * 7 install TypeScript 6 beside it, as ts-jest's guide says).
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { dirname, extname, join } = require('node:path');

const CREATE_REQUIRE = /^const require = createRequire\(import\.meta\.url\);$/gm;
const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const IMPORT_META_RESOLVE = /\bimport\.meta\.resolve\(/g;
const IMPORT_META_DIRNAME = /\bimport\.meta\.dirname\b/g;
const IMPORT_META_FILENAME = /\bimport\.meta\.filename\b/g;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";
const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Part of every cache key: change it when what this file does changes, so Jest does not serve code transformed the old way. */
const VERSION = 'nest-mtls-jest-transformer-1';

/** The rewrites of `import.meta` for CommonJS. */
function rewriteImportMeta(source) {
  if (!source.includes('import.meta')) return source;
  return source
    .replace(CREATE_REQUIRE, "// (CommonJS: require is the module's own)")
    .replace(IMPORT_META_URL, FILE_URL)
    .replace(IMPORT_META_RESOLVE, 'require.resolve(')
    .replace(IMPORT_META_DIRNAME, '__dirname')
    .replace(IMPORT_META_FILENAME, '__filename');
}

/** The "type" of the package.json nearest to each directory (cached: Jest asks for every file it loads). */
const packageTypes = new Map();

function packageTypeOf(dir) {
  let type = packageTypes.get(dir);
  if (type !== undefined) return type;
  try {
    type = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type === 'module' ? 'module' : 'commonjs';
  } catch (err) {
    const parent = dirname(dir);
    // No package.json here (or an unreadable one): the next one up decides, as in Node.
    type = err.code === 'ENOENT' && parent !== dir ? packageTypeOf(parent) : 'commonjs';
  }
  packageTypes.set(dir, type);
  return type;
}

/** Whether Node would load this JavaScript file as an ES module. */
function isEsModule(path) {
  const ext = extname(path);
  if (ext === '.mjs') return true;
  if (ext !== '.js' && ext !== '.jsx') return false;
  return packageTypeOf(dirname(path)) === 'module';
}

class NestMtlsJestTransformer {
  constructor(options = {}) {
    this.options = options;
  }

  /** ts-jest's options: the given ones, with CommonJS output over the project's tsconfig unless a tsconfig file is named. */
  tsJestOptions() {
    if (typeof this.options.tsconfig === 'string') return this.options;
    // CommonJS goes with `bundler` resolution from TypeScript 6 on, with `node10` before (TypeScript 6 deprecates node10).
    const major = Number.parseInt(this.typescript().version, 10);
    const commonJs = { module: 'commonjs', moduleResolution: major >= 6 ? 'bundler' : 'node10', verbatimModuleSyntax: false };
    return { ...this.options, tsconfig: { ...(this.options.tsconfig ?? {}), ...commonJs } };
  }

  /** ts-jest, made when the first TypeScript file comes (an app may have none). */
  tsJest() {
    if (!this.ts) {
      let TsJestTransformer;
      try {
        ({ TsJestTransformer } = require('ts-jest'));
      } catch (err) {
        throw new Error(`nest-mtls/jest-transformer: needs ts-jest for TypeScript files (npm i -D ts-jest): ${err.message.split('\n')[0]}`);
      }
      this.ts = new TsJestTransformer(this.tsJestOptions());
    }
    return this.ts;
  }

  /** TypeScript's module, the one ts-jest compiles with (its `compiler` option, resolved from ts-jest, as ts-jest does). */
  typescript() {
    if (!this.typescriptModule) {
      const name = this.options.compiler ?? 'typescript';
      let ts;
      try {
        ts = require(require.resolve(name, { paths: [dirname(require.resolve('ts-jest')), process.cwd()] }));
      } catch (err) {
        throw new Error(`nest-mtls/jest-transformer: needs ts-jest and ${name} to compile ES modules (npm i -D ts-jest typescript): ${err.message.split('\n')[0]}`);
      }
      if (typeof ts.transpileModule !== 'function') {
        throw new Error(`nest-mtls/jest-transformer: typescript ${ts.version} has no JavaScript API (TypeScript 7); install TypeScript 6 as "typescript" beside it (ts-jest's guide "Using TypeScript 7")`);
      }
      this.typescriptModule = ts;
    }
    return this.typescriptModule;
  }

  process(source, path, options) {
    if (TYPESCRIPT.test(path)) return this.tsJest().process(rewriteImportMeta(source), path, options);
    return this.javascript(source, path);
  }

  async processAsync(source, path, options) {
    if (TYPESCRIPT.test(path)) return this.tsJest().processAsync(rewriteImportMeta(source), path, options);
    return this.javascript(source, path);
  }

  getCacheKey(source, path, options) {
    if (TYPESCRIPT.test(path)) return `${this.tsJest().getCacheKey(source, path, options)}:${VERSION}`;
    return this.javascriptCacheKey(source, path, options);
  }

  async getCacheKeyAsync(source, path, options) {
    if (TYPESCRIPT.test(path)) return `${await this.tsJest().getCacheKeyAsync(source, path, options)}:${VERSION}`;
    return this.javascriptCacheKey(source, path, options);
  }

  /** An ES module compiled to CommonJS; CommonJS as it is. */
  javascript(source, path) {
    if (!isEsModule(path)) return { code: source };
    const ts = this.typescript();
    const { outputText, sourceMapText } = ts.transpileModule(rewriteImportMeta(source), {
      fileName: path.replace(/\.mjs$/, '.js'),
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: true,
        inlineSources: true,
      },
    });
    return { code: outputText.replace(/\n\/\/# sourceMappingURL=.*$/, ''), map: sourceMapText };
  }

  javascriptCacheKey(source, path, options) {
    const hash = createHash('sha256').update(VERSION).update('\0').update(path).update('\0').update(source).update('\0');
    hash.update(isEsModule(path) ? `esm:${this.typescript().version}` : 'cjs');
    hash.update('\0').update(options?.configString ?? '');
    return hash.digest('hex');
  }
}

module.exports = { createTransformer: (options) => new NestMtlsJestTransformer(options) };
