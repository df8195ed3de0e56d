import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { withEnvVariable } from '../config/env-origin';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { validateMtlsOptions } from '../config/validate-mtls-options';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { MtlsError } from '../errors/mtls.error';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { describeCert } from '../x509/trust-path';
import { CanaryError, loopbackCanary } from './loopback-canary';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import type { MaterialRead, MaterialReader } from './material-reader';
import type { MtlsReloadResult, MtlsRole } from './material-source.types';
import { makeSnapshot } from './snapshot-secrets';
import { assertExtendedKeyUsage, runStartupChecks } from './startup-checks';

/** A failed reload is tried again after this long, doubling each time up to RETRY_MAX_MS, until one succeeds or the material changes. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 300_000;
/** At startup, a canary that could not run (not one the material failed) runs again this many times. */
const STARTUP_CANARY_ATTEMPTS = 3;

/**
 * The MtlsMaterialSource nest-mtls makes (`MtlsMaterialSource.create`, which
 * returns it typed as the seam: that is what checks it fits), for
 * material from files or from a MtlsPemSource alike: every snapshot it hands
 * out passed every check.
 *
 * `reload()` reads the material again and, when it changed, runs every
 * startup check again (parse, passwords, key matches certificate, validity,
 * chain to the trust store, CRLs current, the EKU of each role in use) and a
 * real mutual-TLS handshake on loopback with the new material; only then is
 * it swapped in. Anything less keeps the last good material and logs one line
 * naming the setting, the problem and the certificate still served. Reloads
 * never overlap. A failed reload is tried again with backoff (1 s, doubling,
 * at most every 5 min) even when the material stays as it is: a failure need
 * not be the material's (a certificate whose notBefore is a second ahead of
 * our clock, a loopback canary that could not run), and a new CRL must not
 * wait for the next change. What asks for a reload (file events, SIGHUP,
 * `reloadIntervalMs`, a source's `changed`) is MaterialReloadTriggers'; this
 * class does not know.
 */
export class CheckedMaterialSource {
  private readonly changed = new Subject<MtlsMaterialSnapshot>();
  private readonly reloaded = new Subject<MtlsReloadResult>();
  private readonly roles = new Set<MtlsRole>();
  private running?: Promise<MtlsReloadResult>;
  private queued?: { reason: string; force: boolean };
  /** Hash of the last material that failed. */
  private failedFingerprint?: string;
  /** The pending retry of a failed reload, and how many retries ran since the material last changed. */
  private retryTimer?: NodeJS.Timeout;
  private retries = 0;
  private closed = false;

  readonly changes: Observable<MtlsMaterialSnapshot> = this.changed.asObservable();
  readonly reloads: Observable<MtlsReloadResult> = this.reloaded.asObservable();
  lastReload?: MtlsReloadResult;

  /** The options as given (passwords included): a native private field, so that no walk of this object reaches them. */
  readonly #raw: MtlsOptions;

  protected constructor(
    raw: MtlsOptions,
    private readonly reader: MaterialReader,
    private snapshot: MtlsMaterialSnapshot,
    /** Hash of the material behind the current snapshot. */
    private fingerprint: string,
    protected readonly logger = new Logger('MtlsModule'),
  ) {
    this.#raw = raw;
  }

  /** Validates the options, reads the material, runs the startup checks and the loopback canary; throws MtlsConfigError before anything listens. */
  static async create(raw: MtlsOptions, reader: MaterialReader): Promise<CheckedMaterialSource> {
    const logger = new Logger('MtlsModule');
    try {
      validateMtlsOptions(raw); // before anything is read: a bad option is named as such
    } catch (err) {
      throw withEnvVariable(err, raw);
    }
    try {
      const read = await CheckedMaterialSource.readFrom(reader, raw);
      const snapshot = await CheckedMaterialSource.load(raw, read, 1, logger);
      for (let attempt = 1; ; attempt++) {
        try {
          await CheckedMaterialSource.canary(snapshot, logger);
          break;
        } catch (err) {
          // A canary that could not run says nothing about the material: run it again before giving up.
          if (!(err instanceof MtlsError && err.code === 'ERR_MTLS_CANARY') || attempt >= STARTUP_CANARY_ATTEMPTS) throw err;
          logger.warn(`${err.message}; running it again (${attempt + 1} of ${STARTUP_CANARY_ATTEMPTS})`);
        }
      }
      return new CheckedMaterialSource(raw, reader, snapshot, read.fingerprint, logger);
    } catch (err) {
      reader.close?.(); // nothing will read it again (a source's open connection must not keep the process up)
      throw err;
    }
  }

  /** One read of the reader; a source whose read() throws is a configuration error naming it. */
  protected static async readFrom(reader: MaterialReader, raw: MtlsOptions): Promise<MaterialRead> {
    try {
      return await reader.read();
    } catch (err) {
      if (err instanceof MtlsError) throw withEnvVariable(err, raw);
      throw new MtlsConfigError('source', `${reader.name}: read() failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Parses and checks what was read; the checks' warnings are logged. */
  protected static async load(raw: MtlsOptions, read: MaterialRead, generation: number, logger = new Logger('MtlsModule')): Promise<MtlsMaterialSnapshot> {
    try {
      const options = validateMtlsOptions(raw);
      const material = read.load();
      const warnings = await runStartupChecks(material, options);
      for (const warning of warnings) logger.warn(warning);
      return makeSnapshot(material, options, generation);
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
      throw new MtlsConfigError(identitySetting(snapshot), `the material does not complete a mutual-TLS handshake on loopback: ${(err as Error).message}`);
    }
    if (strangers > 0) {
      logLine(logger, 'warn', `the loopback canary dropped ${strangers} connection${strangers === 1 ? '' : 's'} to its port that ${strangers === 1 ? 'was' : 'were'} not its own (another local process probing loopback ports?)`, {
        event: 'canary_strangers',
        count: strangers,
      });
    }
  }

  current(): MtlsMaterialSnapshot {
    return this.snapshot;
  }

  requireRole(role: MtlsRole): void {
    assertRole(this.snapshot, role);
    this.roles.add(role);
  }

  rolesInUse(): ReadonlySet<MtlsRole> {
    return this.roles;
  }

  reload(reason = 'requested', { force = true }: { force?: boolean } = {}): Promise<MtlsReloadResult> {
    if (this.running) {
      // One more reload after the one in flight, with the strongest request made meanwhile.
      this.queued = { reason, force: force || (this.queued?.force ?? false) };
      return this.running.then(() => this.running ?? this.reload(reason, { force }));
    }
    this.running = this.reloadOnce(reason, force).finally(() => {
      this.running = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next) void this.reload(next.reason, { force: next.force });
    });
    return this.running;
  }

  private async reloadOnce(reason: string, force: boolean): Promise<MtlsReloadResult> {
    let read: MaterialRead;
    try {
      read = await CheckedMaterialSource.readFrom(this.reader, this.#raw);
    } catch (err) {
      return this.failed(reason, undefined, err);
    }
    const { fingerprint } = read;
    const unchanged = fingerprint === this.fingerprint || fingerprint === this.failedFingerprint;
    if (unchanged && !force) {
      // Material back to exactly what is in use after a failed reload: the failure is over (health and lastReload say so).
      const recovered = fingerprint === this.fingerprint && this.lastReload?.result === 'failure';
      if (recovered) {
        this.failedFingerprint = undefined;
        this.cancelRetry();
        logLine(this.logger, 'log', `the TLS material ${this.reader.name === 'files' ? 'files are' : `of ${logSafe(this.reader.name)} is`} back to what is served (${logSafe(reason)}): ${describeSnapshot(this.snapshot)}, generation ${this.snapshot.generation}`, {
          event: 'material_reloaded',
          result: 'unchanged',
          trigger: logSafe(reason),
          generation: this.snapshot.generation,
        });
      }
      return this.report({ result: 'unchanged', reason, generation: this.snapshot.generation, at: new Date() }, recovered);
    }
    try {
      const next = await CheckedMaterialSource.load(this.#raw, read, this.snapshot.generation + 1, this.logger);
      for (const role of this.roles) assertRole(next, role);
      await CheckedMaterialSource.canary(next, this.logger);
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
      return this.failed(reason, fingerprint, err);
    }
  }

  /** A reload that failed: the last good material stays; tried again with backoff. */
  private failed(reason: string, fingerprint: string | undefined, err: unknown): MtlsReloadResult {
    // Other material than the last that failed: its retries start over.
    if (fingerprint === undefined || fingerprint !== this.failedFingerprint) this.retries = 0;
    this.failedFingerprint = fingerprint;
    const error = ((err as Error)?.message ?? String(err)).split('\n')[0];
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

  /**
   * Tries the material again after a failure, as it is (a forced reload),
   * with backoff; returns the delay, or undefined when closed. Any reload in
   * between that succeeds, or finds the material back to what is served,
   * cancels it.
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

  /** Puts `next` in place and tells every listener (the revocation engine first: it subscribed first). */
  protected swap(next: MtlsMaterialSnapshot): void {
    this.snapshot = next;
    this.changed.next(next);
  }

  close(): void {
    if (!this.closed) this.reader.close?.();
    this.closed = true;
    this.cancelRetry();
    this.changed.complete();
    this.reloaded.complete();
  }
}

/** The setting that names our certificate, for messages. */
function identitySetting(snapshot: MtlsMaterialSnapshot): string {
  // A source excludes every file option (validateMtlsOptions), and a snapshot's options do not hold the source itself.
  return snapshot.options.keyStorePath ? 'keyStorePath' : snapshot.options.certPath ? 'certPath' : 'source';
}

function assertRole(snapshot: MtlsMaterialSnapshot, role: MtlsRole): void {
  try {
    assertExtendedKeyUsage(snapshot.material, role, identitySetting(snapshot));
  } catch (err) {
    throw withEnvVariable(err, snapshot.options); // names MTLS_* too when the value came from there
  }
}

/** `serial 1A2B... (CN=user-service, valid until 2027-01-01T00:00:00.000Z)` */
export function describeSnapshot(snapshot: MtlsMaterialSnapshot): string {
  const leaf = snapshot.material.identity.chain[0];
  return `serial ${leaf.serialNumber} (${describeCert(leaf)}, valid until ${new Date(leaf.validTo).toISOString()})`;
}
