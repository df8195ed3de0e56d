import { realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { materialFiles } from './material-fingerprint';

/** Quiet time after the last file event before a reload: a writer's burst of events is one reload. */
export const RELOAD_DEBOUNCE_MS = 250;

/**
 * Tells `reload` when the material may have changed: a file event in the
 * directory of any configured file (so Kubernetes' atomic `..data` symlink
 * swap in a mounted secret is seen, as are renames) or in the directory the
 * file really lives in behind its symlinks (so a rewrite in place is seen
 * too), debounced; SIGHUP; and, when set, every `reloadIntervalMs`. After each
 * reload the watched directories follow the symlinks anew (`refresh()`).
 * Nothing here keeps the process alive. `close()` stops all of it.
 */
export class MaterialWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private debounce?: NodeJS.Timeout;
  private interval?: NodeJS.Timeout;
  readonly onSighup = (): void => this.reload('SIGHUP');

  constructor(
    private readonly options: ResolvedMtlsOptions,
    private readonly reload: (reason: string) => void,
    private readonly onWatchError: (message: string) => void,
  ) {}

  start(): void {
    this.refresh();
    if (this.options.reloadIntervalMs) {
      this.interval = setInterval(() => this.reload('interval'), this.options.reloadIntervalMs);
      this.interval.unref();
    }
    process.on('SIGHUP', this.onSighup);
  }

  /** Watches the directories of the configured files and of their real paths now; stops watching any other. */
  refresh(): void {
    if (!this.options.watch) return;
    const wanted = new Set<string>();
    for (const file of materialFiles(this.options)) {
      wanted.add(dirname(resolve(file)));
      try {
        wanted.add(dirname(realpathSync(file)));
      } catch {
        // missing right now (mid-swap): its directory is watched, the next event brings it back
      }
    }
    for (const [dir, watcher] of this.watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of wanted) if (!this.watchers.has(dir)) this.watchDirectory(dir);
  }

  private watchDirectory(dir: string): void {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, file) => this.changed(`${dir}/${file ?? ''}`));
      // A directory that goes away (an old ..data target) ends its watcher; refresh() drops it after the reload.
      watcher.on('error', () => this.changed(dir));
      this.watchers.set(dir, watcher);
    } catch (err) {
      this.onWatchError(`cannot watch ${dir}: ${(err as Error).message}; SIGHUP still reloads`);
    }
  }

  private changed(what: string): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(`change in ${what}`), RELOAD_DEBOUNCE_MS);
    this.debounce.unref();
  }

  close(): void {
    process.removeListener('SIGHUP', this.onSighup);
    clearTimeout(this.debounce);
    clearInterval(this.interval);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}
