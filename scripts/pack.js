#!/usr/bin/env node
/*
 * npm run pack: builds the repository, packs the nest-mtls package
 * (libs/mtls) into a tarball in the repository root (or --into DIR) and prints
 * the tarball's absolute path as the last line of its output.
 *
 * As a module: packNestMtls({ into, build }) does the same and returns the path.
 */
const { execFileSync } = require('node:child_process');
const { mkdirSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * Packs nest-mtls into `into` and returns the tarball's absolute path.
 * `build`: true runs `npm run build` first; 'if-needed' only when outputs are stale.
 * @param {{ into?: string, build?: boolean | 'if-needed', stdio?: 'inherit' | 'pipe' | 'ignore' }} [options]
 * @returns {string} the tarball's absolute path
 */
function packNestMtls({ into = root, build = true, stdio = 'inherit' } = {}) {
  if (build === 'if-needed') execFileSync(process.execPath, [join(__dirname, 'ensure-built.js')], { cwd: root, stdio });
  else if (build) execFileSync(npm, ['run', 'build'], { cwd: root, stdio });
  const dir = resolve(into);
  mkdirSync(dir, { recursive: true });
  // The build above is the package's build: skip its prepack (which would build it again).
  const out = execFileSync(npm, ['pack', '--workspace', 'nest-mtls', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', stdio === 'inherit' ? 'inherit' : 'pipe'],
  });
  const [result] = JSON.parse(out);
  if (!result?.filename) throw new Error(`npm pack printed no file name: ${out.slice(0, 200)}`);
  return join(dir, result.filename);
}

module.exports = { packNestMtls };

if (require.main === module) {
  const i = process.argv.indexOf('--into');
  try {
    const tarball = packNestMtls({ into: i > 0 ? process.argv[i + 1] : root });
    console.log(tarball);
  } catch (err) {
    console.error(`pack failed: ${err.message.split('\n')[0]}`);
    process.exit(1);
  }
}
