#!/usr/bin/env node
/*
 * Builds the nest-mtls package into libs/mtls/dist: a clean CommonJS build with
 * declarations (tsc), then an ES-module entry beside each CommonJS entry point;
 * type imports of optional peers in the declarations are marked (optional-peer-types.js).
 */
const { execFileSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const { join } = require('node:path');
const { writeEsmEntries } = require('./write-esm-entries');
const { markOptionalPeerImports } = require('./optional-peer-types');

const pkg = join(__dirname, '..');
rmSync(join(pkg, 'dist'), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(pkg, 'tsconfig.lib.json')], { stdio: 'inherit' });
} catch {
  process.stderr.write('nest-mtls: tsc failed (errors above)\n');
  process.exit(1);
}
// Every entry point of package.json's `exports` (its CommonJS file) gets its ES-module face.
const entries = Object.values(require('../package.json').exports).map((target) => target?.require?.default).filter(Boolean);
for (const entry of entries) writeEsmEntries(join(pkg, entry));
markOptionalPeerImports(join(pkg, 'dist'));
