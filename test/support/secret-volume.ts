import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A directory laid out and updated the way the kubelet updates a mounted
 * Kubernetes secret (its AtomicWriter): the files live in a timestamped
 * directory, `..data` is a symlink to it, each visible name (`tls.crt`) is a
 * symlink into `..data/`, and an update writes a new timestamped directory
 * and swaps `..data` with one rename, then removes the old directory.
 */
export class SecretVolume {
  private generation = 0;
  private current?: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Path of a visible file. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Publishes a new set of files atomically. */
  update(files: Record<string, string | Buffer>): void {
    const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${++this.generation}`;
    mkdirSync(join(this.dir, stamp));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, stamp, name), content, { mode: 0o600 });
    const tmp = join(this.dir, '..data_tmp');
    rmSync(tmp, { force: true });
    symlinkSync(stamp, tmp);
    renameSync(tmp, join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      if (!existsSync(join(this.dir, name))) symlinkSync(join('..data', name), join(this.dir, name));
    }
    if (this.current) rmSync(join(this.dir, this.current), { recursive: true, force: true });
    this.current = stamp;
  }
}
