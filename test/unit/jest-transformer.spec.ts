import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

// The transformer the package ships (libs/mtls/jest-transformer.js); every test file here already runs through it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTransformer } = require('../../libs/mtls/jest-transformer.js') as {
  createTransformer(options?: object): { process(source: string, path: string, options: object): { code: string } };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const preset = require('../../libs/mtls/jest-preset.js') as { transform: Record<string, string>; transformIgnorePatterns: string[]; moduleNameMapper: Record<string, string> };

/**
 * nest-mtls/jest-transformer decides per file, by what Node would do: an ES
 * module (`.mjs`, or `.js` under a package.json with "type": "module", however
 * deeply nested in node_modules) is compiled to CommonJS, CommonJS is left
 * alone, TypeScript goes to ts-jest.
 */
describe('nest-mtls/jest-transformer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nest-mtls-jest-transformer-'));
  const transformer = createTransformer({ tsconfig: { module: 'commonjs', target: 'es2022', isolatedModules: true } });
  const jestOptions = { config: { rootDir: dir, cwd: dir }, configString: '{}', cacheFS: new Map(), transformerConfig: {}, supportsDynamicImport: false, supportsExportNamespaceFrom: false, supportsStaticESM: false, supportsTopLevelAwait: false };

  /** Writes `files` under the temp dir (path: text). */
  function write(files: Record<string, string>): void {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  }

  /** Runs transformed CommonJS code and returns its exports. */
  function load(code: string, filename: string): Record<string, unknown> {
    const module = { exports: {} as Record<string, unknown> };
    runInNewContext(code, { module, exports: module.exports, require, __filename: filename, __dirname: join(filename, '..') });
    return module.exports;
  }

  beforeAll(() =>
    write({
      'node_modules/cjs-pkg/package.json': '{"name":"cjs-pkg"}',
      'node_modules/cjs-pkg/index.js': "exports.kind = 'cjs';\n",
      'node_modules/cjs-pkg/node_modules/esm-dep/package.json': '{"name":"esm-dep","type":"module"}',
      'node_modules/cjs-pkg/node_modules/esm-dep/lib/index.js': "export const kind = 'esm';\nexport const here = import.meta.dirname;\nexport const url = import.meta.url;\n",
      'node_modules/cjs-pkg/node_modules/esm-dep/lib/legacy.cjs': "exports.kind = 'cjs';\n",
      'node_modules/any/x.mjs': 'export default 42;\n',
    }),
  );

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles an ES module nested under a CommonJS package (by its own package.json), import.meta included', () => {
    const file = join(dir, 'node_modules/cjs-pkg/node_modules/esm-dep/lib/index.js');
    const source = "export const kind = 'esm';\nexport const here = import.meta.dirname;\nexport const url = import.meta.url;\n";
    const { code } = transformer.process(source, file, jestOptions);
    expect(code).not.toMatch(/^export /m);
    expect(load(code, file)).toMatchObject({ kind: 'esm', here: join(dir, 'node_modules/cjs-pkg/node_modules/esm-dep/lib'), url: `file://${file}` });
  });

  it('compiles .mjs wherever it is', () => {
    const file = join(dir, 'node_modules/any/x.mjs');
    expect(load(transformer.process('export default 42;\n', file, jestOptions).code, file).default).toBe(42);
  });

  it('leaves CommonJS as it is (.js under a CommonJS package, .cjs under an ES-module one)', () => {
    const source = "exports.kind = 'cjs';\n";
    expect(transformer.process(source, join(dir, 'node_modules/cjs-pkg/index.js'), jestOptions).code).toBe(source);
    expect(transformer.process(source, join(dir, 'node_modules/cjs-pkg/node_modules/esm-dep/lib/legacy.cjs'), jestOptions).code).toBe(source);
  });

  it('compiles TypeScript through ts-jest, decorators included', () => {
    const file = join(dir, 'src/thing.ts');
    write({ 'src/thing.ts': '' });
    const source = "function mark(target: object) { (target as { marked?: boolean }).marked = true; }\n@mark export class Thing { name: string = 'a'; }\n";
    const { code } = transformer.process(source, file, { ...jestOptions, config: { ...jestOptions.config, globals: {} } });
    expect((load(code, file).Thing as { marked?: boolean }).marked).toBe(true);
  });

  it("compiles TypeScript to CommonJS under Nest 12's starter tsconfig (nodenext) in an ES-module app", () => {
    write({
      'esm-app/package.json': '{"type":"module"}',
      'esm-app/tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', isolatedModules: true, target: 'ES2023', experimentalDecorators: true, emitDecoratorMetadata: true } }),
      'esm-app/test/a.spec.ts': '',
    });
    const appDir = join(dir, 'esm-app');
    const file = join(appDir, 'test/a.spec.ts');
    const { code } = createTransformer().process("import { base } from './base.js';\nexport const answer: number = base + 1;\n", file, { ...jestOptions, config: { rootDir: appDir, cwd: appDir } });
    expect(code).not.toMatch(/^(import|export) /m);
    const module = { exports: {} as Record<string, unknown> };
    runInNewContext(code, { module, exports: module.exports, require: (id: string) => (id === './base.js' ? { base: 41 } : require(id)) });
    expect(module.exports.answer).toBe(42);
  });

  it("the preset sends every file to it, ignores nothing in node_modules, and maps `./x.js` to `./x`", () => {
    expect(Object.values(preset.transform)).toEqual([require.resolve('../../libs/mtls/jest-transformer.js')]);
    const pattern = new RegExp(Object.keys(preset.transform)[0]);
    for (const f of ['a.ts', 'a.mts', 'a.cts', 'a.js', 'a.mjs', 'a.cjs', 'a.tsx']) expect(pattern.test(f)).toBe(true);
    expect(preset.transformIgnorePatterns).toEqual([]);
    const [[from, to]] = Object.entries(preset.moduleNameMapper);
    expect('../src/app.module.js'.replace(new RegExp(from), to)).toBe('../src/app.module');
    expect(new RegExp(from).test('nest-mtls/testing.js')).toBe(false); // package paths are left alone
  });
});
