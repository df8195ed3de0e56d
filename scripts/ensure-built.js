#!/usr/bin/env node
// Builds the repository (`npm run build`: the nest-mtls package, then the demo services)
// when an output is missing or older than a source file.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const outputs = [
  'libs/mtls/dist/index.js',
  'libs/mtls/dist/index.mjs',
  'libs/mtls/dist/testing/index.mjs',
  'libs/mtls/dist/admin/index.mjs',
  'libs/mtls/dist/fastify/index.mjs',
  'libs/mtls/dist/microservices/index.mjs',
  'libs/mtls/dist/app/index.mjs',
  'libs/mtls/dist/dev-pki/index.mjs',
  'libs/mtls/dist/health/index.mjs',
  'libs/mtls/dist/spiffe/index.mjs',
  'libs/mtls/dist/cli/main.js',
  'dist/apps/user-service/apps/user-service/src/main.js',
  'dist/apps/home-page-service/apps/home-page-service/src/main.js',
  'dist/apps/event-service/apps/event-service/src/main.js',
].map((p) => join(root, p));
const SKIP = new Set(['node_modules', 'dist']);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) newest = Math.max(newest, newestSource(path));
    } else if (/\.(ts|json|js)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = Math.max(...['apps', 'libs'].map((d) => newestSource(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
if (built < sources) {
  console.log('building (npm run build)...');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
