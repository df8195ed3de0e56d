import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { withEnvVariable } from '../config/env-origin';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { validateMtlsOptions } from '../config/validate-mtls-options';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { assertExtendedKeyUsage, runStartupChecks } from './startup-checks';
import { secureContextOptions } from './tls-server-options';
import { revocationCoverageWarning } from '../revocation/revocation-coverage';
import { describeCert } from '../x509/trust-path';
import { MtlsEvents } from '../telemetry/mtls-events';
import { MtlsError } from '../errors/mtls.error';
import { CanaryError, loopbackCanary } from './loopback-canary';
import { materialFingerprint } from './material-fingerprint';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import { MaterialWatcher } from './material-watcher';
import { otherSighupListeners } from './sighup-conflict';
import { loadTlsMaterial } from './tls-material-loader';
import { MtlsRevocation } from '../revocation/mtls-revocation';
import { networkRevocationSources } from '../revocation/network-sources';
import type { MtlsRevocationCheck } from '../revocation/revocation-answer';

/** A failed reload is tried again after this long, doubling each time up to RETRY_MAX_MS, until one succeeds or the files change. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 300_000;
/** At startup, a canary that could not run (not one the material failed) runs again this many times. */
const STARTUP_CANARY_ATTEMPTS = 3;

/** What our certificate is used for in this application: serving TLS, calling other services, or both. */
export type MtlsRole = 'serverAuth' | 'clientAuth';

/** The outcome of one reload. */
export interface MtlsReloadResult {
  /** `success`: new material is in place; `failure`: the last good material stays; `unchanged`: the files are as they were. */
  result: 'success' | 'failure' | 'unchanged';
  /** What asked for it: `SIGHUP`, `interval`, `change in <path>`, `requested`, `retry N after a failed reload`. */
  reason: string;
  /** The generation in use afterwards. */
  generation: number;
  /** For a failure: the one-line reason (names the setting and file). */
  error?: string;
  at: Date;
}

/**
 * The one source of TLS material of an application: `current()` is what new
 * handshakes use; `changes` emits each new snapshot once it is in place.
 * Every TLS endpoint (the HTTP server, a TCP transport) and the outbound
 * client read from here; none keeps a private copy.
 *
 * `reload()` re-reads the files and, when they changed, runs every startup
 * check again (parse, passwords, key matches certificate, validity, chain to
 * the trust store, CRLs current, the EKU of each role in use) and a real
 * mutual-TLS handshake on loopback with the new material; only then is it
 * swapped in. Anything less keeps the last good material and logs one line
 * naming the file, the problem and the certificate still served. While the
 * application runs, file changes (watch), SIGHUP and `reloadIntervalMs` call
 * it; reloads never overlap. A failed reload is tried again with backoff
 * (1 s, doubling, at most every 5 min) even when the files stay as they are:
 * a failure need not be the files' (a certificate whose notBefore is a second
 * ahead of our clock, a loopback canary that could not run), and a new CRL
 * must not wait for the next file change.
 */
export class MtlsMaterialSource {
  private readonly changed = new Subject<MtlsMaterialSnapshot>();
  private readonly reloaded = new Subject<MtlsReloadResult>();
  private readonly roles = new Set<MtlsRole>();
  private watcher?: MaterialWatcher;
  private running?: Promise<MtlsReloadResult>;
  private queued?: { reason: string; force: boolean };
  /** Hash of the files behind the current material, and of the last files that failed. */
  private failedFingerprint?: string;
  /** The pending retry of a failed reload, and how many retries ran since the files last changed. */
  private retryTimer?: NodeJS.Timeout;
  private retries = 0;
  private closed = false;

  /** Emits every new snapshot after it replaced the previous one. */
  readonly changes: Observable<MtlsMaterialSnapshot> = this.changed.asObservable();
  /** Emits the outcome of every reload (for metrics and health). */
  readonly reloads: Observable<MtlsReloadResult> = this.reloaded.asObservable();
  /**
   * The outcome of the last reload that was not `unchanged`, if any; or an
   * `unchanged` one that found the files back to the material in use after a
   * failure (the failure is over).
   */
  lastReload?: MtlsReloadResult;
  /** What happens to mTLS in this application (refusals, guard decisions, callers), for metrics and audit. */
  readonly events = new MtlsEvents();
  /**
   * Revocation checking of client certificates (CRL files, CRL distribution
   * points, OCSP), which every TLS endpoint's revocation gate asks; follows
   * each new snapshot.
   */
  readonly revocation: MtlsRevocation;
  /** Every revocation answer about a new connection's certificate: source (`crl`, `crldp`, `ocsp`), result (`good`, `revoked`, `unknown`), from memory or not. For metrics. */
  readonly revocationChecks: Observable<MtlsRevocationCheck>;

  protected constructor(
    private readonly raw: MtlsOptions,
    private snapshot: MtlsMaterialSnapshot,
    private fingerprint: string,
    protected readonly logger = new Logger('MtlsModule'),
  ) {
    this.revocation = new MtlsRevocation(snapshot, networkRevocationSources);
    this.revocationChecks = this.revocation.checks;
    this.revocation.checks.subscribe((check) => this.events.revocationChecks.next(check));
  }

  /** Validates the options, reads every file, runs the startup checks and the loopback canary; throws MtlsConfigError before anything listens. */
  static async create(raw: MtlsOptions): Promise<MtlsMaterialSource> {
    const fingerprint = materialFingerprint(raw);
    const snapshot = await MtlsMaterialSource.load(raw, 1);
    const logger = new Logger('MtlsModule');
    for (let attempt = 1; ; attempt++) {
      try {
        await MtlsMaterialSource.canary(snapshot, logger);
        break;
      } catch (err) {
        // A canary that could not run says nothing about the material: run it again before giving up.
        if (!(err instanceof MtlsError && err.code === 'ERR_MTLS_CANARY') || attempt >= STARTUP_CANARY_ATTEMPTS) throw err;
        logger.warn(`${err.message}; running it again (${attempt + 1} of ${STARTUP_CANARY_ATTEMPTS})`);
      }
    }
    let source: MtlsMaterialSource;
    try {
      source = new MtlsMaterialSource(raw, snapshot, fingerprint);
    } catch (err) {
      throw withEnvVariable(err, raw); // crlCacheDir that cannot be created
    }
    const coverage = revocationCoverageWarning(snapshot.material, snapshot.options);
    if (coverage) source.logger.warn(coverage);
    if (!snapshot.options.validatePeers) source.logger.warn('validatePeers is false: client certificates are not checked for revocation (no CRLs, CRL distribution points or OCSP); their chains are still verified against the trust store in the handshake');
    return source;
  }

  /** Reads and checks material; the checks' warnings are logged. */
  protected static async load(raw: MtlsOptions, generation: number, logger = new Logger('MtlsModule')): Promise<MtlsMaterialSnapshot> {
    try {
      const options = validateMtlsOptions(raw);
      const material = loadTlsMaterial(options);
      const warnings = await runStartupChecks(material, options);
      for (const warning of warnings) logger.warn(warning);
      return { options, material, secureContext: secureContextOptions(material, options), generation, loadedAt: new Date() };
    } catch (err) {
      throw withEnvVariable(err, raw); // names MTLS_* too when the value came from there
    }
  }

  /**
   * The loopback handshake. A handshake our own material fails is a
   * configuration error of our certificate (MtlsConfigError naming it); a
   * canary that could not run at all (loopback unavailable, too slow) is an
   * MtlsError `ERR_MTLS_CANARY` that says so and blames no setting.
   * Connections of other local processes to its port are ignored, and logged.
   */
  protected static async canary(snapshot: MtlsMaterialSnapshot, logger = new Logger('MtlsModule')): Promise<void> {
    let strangers: number;
    try {
      ({ strangers } = await loopbackCanary(snapshot));
    } catch (err) {
      if (err instanceof CanaryError && err.cause === 'environment') {
        throw new MtlsError('ERR_MTLS_CANARY', `the loopback canary could not run, so the material was not judged: ${err.message}`);
      }
      const setting = snapshot.options.keyStorePath ? 'keyStorePath' : 'certPath';
      throw new MtlsConfigError(setting, `the material does not complete a mutual-TLS handshake on loopback: ${(err as Error).message}`);
    }
    if (strangers > 0) {
      logLine(logger, 'warn', `the loopback canary dropped ${strangers} connection${strangers === 1 ? '' : 's'} to its port that ${strangers === 1 ? 'was' : 'were'} not its own (another local process probing loopback ports?)`, {
        event: 'canary_strangers',
        count: strangers,
      });
    }
  }

  /** The material new handshakes use. */
  current(): MtlsMaterialSnapshot {
    return this.snapshot;
  }

  /**
   * Records that our certificate is used in `role` (a TLS endpoint serves:
   * serverAuth; MtlsHttpClient calls: clientAuth) and checks now that its
   * extended key usage allows it; later material must allow it too.
   * Throws MtlsConfigError naming the setting and the certificate.
   */
  requireRole(role: MtlsRole): void {
    assertRole(this.snapshot, role);
    this.roles.add(role);
  }

  /** The roles in use so far. */
  rolesInUse(): ReadonlySet<MtlsRole> {
    return this.roles;
  }

  /**
   * Re-reads the material now; resolves with what happened (it never
   * rejects: a failure keeps the last good material). Files that have not
   * changed since the last success are not reloaded; `force` (SIGHUP, or a
   * call without options) reloads them anyway, e.g. after a clock change.
   */
  reload(reason = 'requested', { force = true }: { force?: boolean } = {}): Promise<MtlsReloadResult> {
    if (this.running) {
      // One more reload after the one in flight, with the strongest request made meanwhile.
      this.queued = { reason, force: force || (this.queued?.force ?? false) };
      return this.running.then(() => this.running ?? this.reload(reason, { force }));
    }
    this.running = this.reloadOnce(reason, force).finally(() => {
      this.running = undefined;
      this.watcher?.refresh(); // symlinks may point elsewhere now
      const next = this.queued;
      this.queued = undefined;
      if (next) void this.reload(next.reason, { force: next.force });
    });
    return this.running;
  }

  private async reloadOnce(reason: string, force: boolean): Promise<MtlsReloadResult> {
    const fingerprint = materialFingerprint(this.raw);
    const unchanged = fingerprint === this.fingerprint || fingerprint === this.failedFingerprint;
    if (unchanged && !force) {
      // Files back to exactly the material in use after a failed reload: the failure is over (health and lastReload say so).
      const recovered = fingerprint === this.fingerprint && this.lastReload?.result === 'failure';
      if (recovered) {
        this.failedFingerprint = undefined;
        this.cancelRetry();
        logLine(this.logger, 'log', `the TLS material files are back to what is served (${logSafe(reason)}): ${describeSnapshot(this.snapshot)}, generation ${this.snapshot.generation}`, {
          event: 'material_reloaded',
          result: 'unchanged',
          trigger: logSafe(reason),
          generation: this.snapshot.generation,
        });
      }
      return this.report({ result: 'unchanged', reason, generation: this.snapshot.generation, at: new Date() }, recovered);
    }
    try {
      const next = await MtlsMaterialSource.load(this.raw, this.snapshot.generation + 1, this.logger);
      for (const role of this.roles) assertRole(next, role);
      await MtlsMaterialSource.canary(next, this.logger);
      this.fingerprint = fingerprint;
      this.failedFingerprint = undefined;
      this.cancelRetry();
      this.swap(next);
      logLine(this.logger, 'log', `reloaded the TLS material (${logSafe(reason)}): now serving ${describeSnapshot(next)}, generation ${next.generation}`, {
        event: 'material_reloaded',
        result: 'success',
        trigger: logSafe(reason),
        generation: next.generation,
        serial: next.material.identity.chain[0].serialNumber,
      });
      return this.report({ result: 'success', reason, generation: next.generation, at: new Date() });
    } catch (err) {
      // Other files than the last that failed: their retries start over.
      if (fingerprint !== this.failedFingerprint) this.retries = 0;
      this.failedFingerprint = fingerprint;
      const error = (err as Error).message.split('\n')[0];
      const retryInMs = this.scheduleRetry();
      const next = retryInMs === undefined ? '' : `; trying again in ${retryInMs / 1000} s`;
      logLine(this.logger, 'error', `reload of the TLS material failed (${logSafe(reason)}): ${logSafe(error, 600)}; still serving ${describeSnapshot(this.snapshot)}${next}`, {
        event: 'material_reloaded',
        result: 'failure',
        trigger: logSafe(reason),
        generation: this.snapshot.generation,
        serial: this.snapshot.material.identity.chain[0].serialNumber,
      });
      return this.report({ result: 'failure', reason, generation: this.snapshot.generation, error, at: new Date() });
    }
  }

  /**
   * Tries the files again after a failure, as they are (a forced reload), with
   * backoff; returns the delay, or undefined when closed. Any reload in
   * between that succeeds, or finds the files back to what is served, cancels it.
   */
  private scheduleRetry(): number | undefined {
    if (this.closed) return undefined;
    clearTimeout(this.retryTimer);
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.retries, 20));
    this.retries++;
    const attempt = this.retries;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reload(`retry ${attempt} after a failed reload`, { force: true });
    }, delay);
    this.retryTimer.unref();
    return delay;
  }

  private cancelRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retries = 0;
  }

  private report(result: MtlsReloadResult, remember = true): MtlsReloadResult {
    if (remember) this.lastReload = result;
    this.reloaded.next(result);
    return result;
  }

  /** Starts reloading on file changes, SIGHUP and the interval (MtlsModule does this when the application initialises). */
  startWatching(): void {
    if (this.watcher) return;
    this.watcher = new MaterialWatcher(
      this.snapshot.options,
      (reason) => void this.reload(reason, { force: reason === 'SIGHUP' }),
      (message) => this.logger.warn(message),
    );
    this.watcher.start();
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

  /** Puts `next` in place and tells every listener. */
  protected swap(next: MtlsMaterialSnapshot): void {
    this.snapshot = next;
    this.revocation.update(next);
    this.changed.next(next);
  }

  /** Stops watching and telling listeners (at shutdown). */
  close(): void {
    this.closed = true;
    this.cancelRetry();
    this.watcher?.close();
    this.watcher = undefined;
    this.revocation.close();
    this.changed.complete();
    this.reloaded.complete();
    this.events.complete();
  }
}

function assertRole(snapshot: MtlsMaterialSnapshot, role: MtlsRole): void {
  try {
    assertExtendedKeyUsage(snapshot.material, role, snapshot.options.keyStorePath ? 'keyStorePath' : 'certPath');
  } catch (err) {
    throw withEnvVariable(err, snapshot.options); // names MTLS_* too when the value came from there
  }
}

/** `serial 1A2B... (CN=user-service, valid until 2027-01-01T00:00:00.000Z)` */
export function describeSnapshot(snapshot: MtlsMaterialSnapshot): string {
  const leaf = snapshot.material.identity.chain[0];
  return `serial ${leaf.serialNumber} (${describeCert(leaf)}, valid until ${new Date(leaf.validTo).toISOString()})`;
}
