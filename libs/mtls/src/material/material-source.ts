import type { Observable } from 'rxjs';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { CheckedMaterialSource } from './checked-material-source';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import type { MtlsReloadResult, MtlsRole } from './material-source.types';
import { fileMaterialReader, pemMaterialReader } from './material-reader';

export type { MtlsReloadResult, MtlsRole } from './material-source.types';

/**
 * The seam between where an application's TLS material comes from and what
 * uses it, and its injection token: `constructor(source: MtlsMaterialSource)`,
 * `app.get(MtlsMaterialSource)`. Every TLS endpoint (the HTTP server, a TCP
 * transport), the outbound client, the revocation checks, health and metrics
 * read the material from here and follow `changes`; none keeps a private
 * copy. MtlsModule provides one: read from the files of its options, or
 * from the MtlsPemSource of its `source` option; either way each snapshot
 * passed every startup check and the loopback canary. A snapshot holds no
 * private key.
 *
 * What triggers a reload (file events, SIGHUP, `reloadIntervalMs`, a
 * source's `changed`) is apart from it: MtlsModule's triggers call
 * `reload()`.
 */
export abstract class MtlsMaterialSource {
  /** The material new handshakes use. */
  abstract current(): MtlsMaterialSnapshot;
  /** Emits every new snapshot after it replaced the previous one. */
  abstract readonly changes: Observable<MtlsMaterialSnapshot>;
  /** Emits the outcome of every reload (for metrics and health). */
  abstract readonly reloads: Observable<MtlsReloadResult>;
  /**
   * The outcome of the last reload that was not `unchanged`, if any; or an
   * `unchanged` one that found the material back to what is served after a
   * failure (the failure is over).
   */
  abstract readonly lastReload?: MtlsReloadResult;

  /**
   * Records that our certificate is used in `role` (a TLS endpoint serves:
   * serverAuth; MtlsHttpClient and MtlsTcpClient call: clientAuth) and checks
   * now that its extended key usage allows it; later material must allow it
   * too. Throws MtlsConfigError naming the setting and the certificate.
   */
  abstract requireRole(role: MtlsRole): void;
  /** The roles in use so far. */
  abstract rolesInUse(): ReadonlySet<MtlsRole>;

  /**
   * Reads the material again now; resolves with what happened (it never
   * rejects: a failure keeps the last good material, and is tried again with
   * backoff). Material that has not changed since the last success is not
   * reloaded; `force` (SIGHUP, or a call without options) reloads it anyway,
   * e.g. after a clock change.
   */
  abstract reload(reason?: string, options?: { force?: boolean }): Promise<MtlsReloadResult>;

  /** Stops reloading and telling listeners (MtlsModule calls it at shutdown). */
  abstract close(): void;

  /**
   * The source MtlsModule makes from `options`, for use without it (e.g. an
   * MtlsTcpClient made by hand): validates the options, reads the material
   * (files, or the MtlsPemSource of `source`), runs the startup checks and
   * the loopback canary; throws MtlsConfigError before anything listens.
   * Nothing triggers its reloads: call `reload()`.
   */
  static create(options: MtlsOptions): Promise<MtlsMaterialSource> {
    return CheckedMaterialSource.create(options, options?.source ? pemMaterialReader(options.source) : fileMaterialReader(options));
  }
}
