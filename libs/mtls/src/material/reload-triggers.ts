import { Logger } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { MtlsOptions } from '../config/mtls-options.interface';
import type { MtlsMaterialSource } from './material-source';
import { MaterialWatcher } from './material-watcher';
import { otherSighupListeners } from './sighup-conflict';

/**
 * What asks an application's MtlsMaterialSource to reload, apart from the
 * source itself (which reads and checks, and does not know who asked): file
 * events in the directories of the material files (when `watch` is on),
 * SIGHUP, every `reloadIntervalMs`, and the `changed` stream of a
 * MtlsPemSource. MtlsModule starts them when the application initialises and
 * stops them at shutdown.
 */
export class MaterialReloadTriggers {
  private watcher?: MaterialWatcher;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly source: MtlsMaterialSource,
    /** The raw options MtlsModule was given (their `source`, if any, has the `changed` stream). */
    private readonly raw: MtlsOptions,
    private readonly logger = new Logger('MtlsModule'),
  ) {}

  /** Starts every trigger the options ask for; the first call only. */
  start(): void {
    if (this.watcher) return;
    const options = this.source.current().options;
    // A SIGHUP is an operator asking for a reload, e.g. after a clock change: forced even when nothing changed.
    this.watcher = new MaterialWatcher(options, (reason) => void this.source.reload(reason, { force: reason === 'SIGHUP' }), (message) => this.logger.warn(message));
    this.watcher.start();
    // The watched directories follow the symlinks anew after each reload (a Kubernetes ..data swap).
    this.subscriptions.push(this.source.reloads.subscribe(() => this.watcher?.refresh()));
    const pemSource = this.raw?.source;
    if (pemSource?.changed) {
      this.subscriptions.push(pemSource.changed.subscribe(() => void this.source.reload(`change in ${pemSource.name}`, { force: false })));
    }
  }

  /**
   * Warns when something else also listens to SIGHUP (Nest's
   * `enableShutdownHooks()` without a signal list does, and would shut the
   * application down on a reload request). MtlsModule calls it once the
   * application has bootstrapped.
   */
  warnOnSighupConflict(): void {
    if (this.watcher && otherSighupListeners(this.watcher.onSighup) > 0) {
      this.logger.warn(
        "SIGHUP reloads the TLS material, but something else listens to SIGHUP too: app.enableShutdownHooks() without a list of signals shuts the application down on SIGHUP; use app.enableShutdownHooks(['SIGTERM', 'SIGINT'])",
      );
    }
  }

  /** Stops every trigger. */
  close(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    this.watcher?.close();
    this.watcher = undefined;
  }
}
