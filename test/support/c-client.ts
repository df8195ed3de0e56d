import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const built = new Map<string, string>();

/**
 * Compiles one of the hostile C clients in test/support/c (OpenSSL's API,
 * `gcc ... -lssl -lcrypto`) once per test run and returns the binary's path.
 * Throws when gcc or OpenSSL's headers are missing: these tests never skip
 * (.ci/run installs gcc and libssl-dev).
 */
export function compiledClient(name: string): string {
  const cached = built.get(name);
  if (cached) return cached;
  const out = join(mkdtempSync(join(tmpdir(), 'nest-mtls-c-')), name);
  try {
    execFileSync('gcc', ['-O1', '-o', out, join(__dirname, 'c', `${name}.c`), '-lssl', '-lcrypto'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const reason = (err as { stderr?: Buffer }).stderr?.toString().split('\n')[0] || (err as Error).message;
    throw new Error(`cannot build test/support/c/${name}.c (needs gcc and OpenSSL headers, Debian: gcc libssl-dev): ${reason}`, { cause: err });
  }
  built.set(name, out);
  return out;
}
