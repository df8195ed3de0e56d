import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'libs', 'mtls', 'src');
const { LAYERS } = require('../../scripts/architecture-layers') as { LAYERS: string[][] };

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Runs dependency-cruiser with the project's rules over `paths` (relative to `cwd`); its JSON report. */
function cruise(paths: string[], cwd = ROOT): { violations: Violation[]; modules: number } {
  const bin = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const run = spawnSync(process.execPath, [bin, ...paths, '--config', join(ROOT, '.dependency-cruiser.js'), '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (!run.stdout) throw new Error(`dependency-cruiser did not run (exit ${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: report.summary.violations, modules: report.summary.totalCruised };
}

const describeViolation = (v: Violation) => `${v.rule.name}: ${v.from} -> ${v.to}`;

/** The folders and root files of libs/mtls/src, as LAYERS names them. */
function units(): string[] {
  return readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
    .map((e) => (e.isDirectory() ? e.name : e.name.replace(/\.ts$/, '')))
    .sort();
}

/**
 * The dependency rule of docs/architecture.md: folders of libs/mtls/src form
 * layers and import only downwards (so no two folders import each other, and
 * there is no cycle), checked by dependency-cruiser (.dependency-cruiser.js).
 */
describe('architecture: folders depend one way', () => {
  it('no file of libs/mtls/src imports from a higher layer, and there is no import cycle', () => {
    const { violations, modules } = cruise(['libs/mtls/src']);
    expect(modules).toBeGreaterThan(150); // it did cruise the package
    expect(violations.map(describeViolation)).toEqual([]);
  });

  it('every folder and root file of libs/mtls/src is in a layer, and has its paragraph in docs/architecture.md', () => {
    const layered = new Set(LAYERS.flat());
    expect(units().filter((name) => !layered.has(name))).toEqual([]);
    expect([...layered].filter((name) => !units().includes(name))).toEqual([]);
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    expect(units().filter((name) => !doc.includes(`**${name}`) && !doc.includes(`${name}.ts`))).toEqual([]);
  });

  it('the rule catches an import from a lower layer to a higher one (here errors -> server) and a cycle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'architecture-'));
    try {
      const file = (path: string, text: string) => {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      file('libs/mtls/src/errors/low.ts', "import { high } from '../server/high';\nexport const low = () => high;\n");
      file('libs/mtls/src/server/high.ts', "import { low } from '../errors/low';\nexport const high = () => low;\n");
      const names = cruise(['libs/mtls/src'], dir).violations.map(describeViolation);
      expect(names).toContain('layer-errors: libs/mtls/src/errors/low.ts -> libs/mtls/src/server/high.ts');
      expect(names.some((n) => n.startsWith('no-cycle: '))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
