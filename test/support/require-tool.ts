import { spawnSync } from 'node:child_process';

const found = new Map<string, boolean>();

/**
 * Whether a command-line tool a test needs (`openssl`, `curl`, `keytool`,
 * `gcc`, ...) is installed. When it is not: under CI (`CI` set) this throws,
 * so the suite fails and names the tool (CI installs them: .ci/run); on a
 * developer machine it prints why the tests are skipped and returns false.
 *
 *     const describeKeytool = requireTool('keytool', 'JKS stores') ? describe : describe.skip;
 */
export function requireTool(name: string, needFor = 'these tests'): boolean {
  let installed = found.get(name);
  if (installed === undefined) {
    installed = spawnSync('sh', ['-c', 'command -v "$0"', name], { stdio: 'ignore' }).status === 0;
    found.set(name, installed);
  }
  if (installed) return true;
  if (process.env.CI) throw new Error(`${name} is not installed, and ${needFor} need it (CI must install it: see .ci/run)`);
  console.warn(`${name} is not installed: skipping ${needFor} (under CI this fails)`);
  return false;
}
