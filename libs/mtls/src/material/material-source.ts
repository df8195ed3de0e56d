import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { withEnvVariable } from '../config/env-origin';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { validateMtlsOptions } from '../config/validate-mtls-options';
import { assertExtendedKeyUsage, runStartupChecks } from '../server/startup-checks';
import { secureContextOptions } from '../server/tls-server-options';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import { loadTlsMaterial } from './tls-material-loader';

/** What our certificate is used for in this application: serving TLS, calling other services, or both. */
export type MtlsRole = 'serverAuth' | 'clientAuth';

/**
 * The one source of TLS material of an application: `current()` is what new
 * handshakes use; `changes` emits each new snapshot once it is in place.
 * Every TLS endpoint (the HTTP server, a TCP transport) and the outbound
 * client read from here; none keeps a private copy.
 */
export class MtlsMaterialSource {
  private readonly changed = new Subject<MtlsMaterialSnapshot>();
  private readonly roles = new Set<MtlsRole>();
  /** Emits every new snapshot after it replaced the previous one. */
  readonly changes: Observable<MtlsMaterialSnapshot> = this.changed.asObservable();

  protected constructor(
    private snapshot: MtlsMaterialSnapshot,
    protected readonly logger = new Logger('MtlsModule'),
  ) {}

  /** Validates the options, reads every file and runs the startup checks; throws MtlsConfigError before anything listens. */
  static async create(raw: MtlsOptions): Promise<MtlsMaterialSource> {
    const source = new MtlsMaterialSource(await MtlsMaterialSource.load(raw, 1));
    const { options } = source.snapshot;
    if (!options.validatePeers) source.logger.warn('validatePeers is false: unverified client certificates pass the handshake; ClientCertGuard still refuses them');
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

  /** Puts `next` in place and tells every listener. */
  protected swap(next: MtlsMaterialSnapshot): void {
    this.snapshot = next;
    this.changed.next(next);
  }

  /** Stops telling listeners (at shutdown). */
  close(): void {
    this.changed.complete();
  }
}

function assertRole(snapshot: MtlsMaterialSnapshot, role: MtlsRole): void {
  try {
    assertExtendedKeyUsage(snapshot.material, role, snapshot.options.keyStorePath ? 'keyStorePath' : 'certPath');
  } catch (err) {
    throw withEnvVariable(err, snapshot.options); // names MTLS_* too when the value came from there
  }
}
