#!/usr/bin/env node
// Builds the monorepo (`nest build --all`) when dist/ is missing or older than a source file.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const outputs = [
  'dist/apps/user-service/apps/user-service/src/main.js',
  'dist/apps/home-page-service/apps/home-page-service/src/main.js',
  'dist/apps/event-service/apps/event-service/src/main.js',
  'dist/cli/src/main.js',
].map((p) => join(root, p));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = Math.max(...['apps', 'libs', 'src'].map((d) => newestSource(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
if (built < sources) {
  console.log('building (nest build --all)...');
  execSync('npx nest build --all', { cwd: root, stdio: 'inherit' });
}
