import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir for one test file's files; `cleanup()` removes it with everything in it. */
export class TempDir {
  readonly dir: string;

  constructor(prefix = 'nest-mtls-test-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** The path of `name` (or of `a/b/...`) inside the directory; nothing is created. */
  path(...names: string[]): string {
    return join(this.dir, ...names);
  }

  /** Writes `content` to `name` (mode 0600) and returns its path. */
  write(name: string, content: string | Buffer): string {
    const path = this.path(name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  /** The text of `name`. */
  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
