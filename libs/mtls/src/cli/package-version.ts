import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The version of the installed nest-mtls package: its package.json sits two
 * folders up, from the sources (src/cli) and from the build (dist/cli) alike.
 */
export function packageVersion(): string {
  const file = join(__dirname, '..', '..', 'package.json');
  try {
    const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (name === 'nest-mtls' && typeof version === 'string') return version;
  } catch {
    // fall through
  }
  return 'unknown';
}
