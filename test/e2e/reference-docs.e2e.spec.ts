import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { TempDir } from '../support/temp-dir';

/**
 * docs/reference/ is generated from the code (`npm run docs:reference`:
 * option tables and doc comments, error and refusal code tables, `mtls
 * --help`, TypeDoc of the entry points). Regenerated here from the built
 * library into a temporary folder: a page that differs from what is
 * committed is stale, so the reference cannot drift from the code.
 */
const ROOT = join(__dirname, '..', '..');
const REFERENCE = 'docs/reference';

/** Every file under `dir`, as a map of relative path to text. */
function filesUnder(dir: string, prefix = ''): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [p, t] of filesUnder(dir, path)) files.set(p, t);
    else files.set(path, readFileSync(join(dir, path), 'utf8'));
  }
  return files;
}

/** What differs between the committed reference and a fresh one, one line per file, saying what to do. */
function staleFiles(committed: Map<string, string>, generated: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of generated) {
    if (!committed.has(file)) problems.push(`${REFERENCE}/${file} is missing: run npm run docs:reference`);
    else if (committed.get(file) !== text) problems.push(`${REFERENCE}/${file} is stale: run npm run docs:reference`);
  }
  for (const file of committed.keys()) if (!generated.has(file)) problems.push(`${REFERENCE}/${file} is not generated any more: run npm run docs:reference (it removes api/ pages) or delete it`);
  return problems.sort();
}

/** The names each public entry point exports (libs/mtls/package.json `exports`), by API page (`index`, `testing`, ...). */
function exportedNames(): Map<string, string[]> {
  const pkg = join(ROOT, 'libs', 'mtls');
  const exportsField = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, { require?: { types?: string } } | string> }).exports;
  const sources = Object.values(exportsField)
    .map((target) => (typeof target === 'object' ? target.require?.types : undefined))
    .filter((types): types is string => types !== undefined)
    .map((types) => join(pkg, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')));
  const program = ts.createProgram(sources, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: true, noEmit: true });
  const checker = program.getTypeChecker();
  return new Map(
    sources.map((source) => {
      const page = source === join(pkg, 'src', 'index.ts') ? 'index' : source.split('/').slice(-2)[0];
      const symbol = checker.getSymbolAtLocation(program.getSourceFile(source)!)!;
      return [page, checker.getExportsOfModule(symbol).map((s) => s.name)];
    }),
  );
}

describe('docs/reference (npm run docs:reference)', () => {
  const temp = new TempDir('nest-mtls-reference-');
  let generated: Map<string, string>;

  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'generate-reference.js'), temp.dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    generated = filesUnder(temp.dir);
  }, 300_000);
  afterAll(() => temp.cleanup());

  it('generates the options, errors, cli and API pages and their index', () => {
    expect([...generated.keys()]).toEqual(expect.arrayContaining(['README.md', 'options.md', 'errors.md', 'cli.md', 'api/README.md', 'api/index.md', 'api/testing.md']));
    expect(generated.get('options.md')).toContain('| [`keyStorePath`](#keystorepath) | `MTLS_KEY_STORE_PATH` |');
    expect(generated.get('errors.md')).toContain('`ERR_MTLS_CONFIG`');
    expect(generated.get('cli.md')).toContain('Usage: mtls pki init');
  });

  it('documents every export of every public entry point under a heading of its page', () => {
    const entries = exportedNames();
    expect([...entries.keys()].sort()).toEqual(['admin', 'app', 'dev-pki', 'fastify', 'grpc', 'health', 'index', 'microservices', 'spiffe', 'testing']);
    const undocumented = [...entries].flatMap(([page, names]) => {
      const headings = new Set([...(generated.get(`api/${page}.md`) ?? '').matchAll(/^#{2,6} (?:`[a-z]+` )*(.+?)(?:\(\))?$/gm)].map((m) => m[1].replace(/\\(.)/g, '$1')));
      return names.filter((name) => !headings.has(name)).map((name) => `${page}: ${name}`);
    });
    expect(undocumented).toEqual([]);
  });

  it('is what the code generates now (no page is stale)', () => {
    expect(staleFiles(filesUnder(join(ROOT, REFERENCE)), generated)).toEqual([]);
  });

  it('is deterministic: no date, no absolute path of this machine', () => {
    for (const [file, text] of generated) {
      expect({ file, hasRoot: text.includes(ROOT), hasTemp: text.includes(temp.dir) }).toEqual({ file, hasRoot: false, hasTemp: false });
    }
  });

  it('names a stale, a missing and a removed page with what to do (a control)', () => {
    const committed = new Map(generated);
    committed.set('options.md', `${generated.get('options.md')}edited by hand\n`);
    committed.delete('cli.md');
    committed.set('api/gone.md', 'an entry point that was removed');
    expect(staleFiles(committed, generated)).toEqual([
      `${REFERENCE}/api/gone.md is not generated any more: run npm run docs:reference (it removes api/ pages) or delete it`,
      `${REFERENCE}/cli.md is missing: run npm run docs:reference`,
      `${REFERENCE}/options.md is stale: run npm run docs:reference`,
    ]);
  });
});
