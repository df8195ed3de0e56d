import { Logger } from '@nestjs/common';
import type { MtlsOptions, ResolvedMtlsOptions } from './config/mtls-options.interface';
import { withEnvVariable } from './config/env-origin';
import { validateMtlsOptions } from './config/validate-mtls-options';
import { loadTlsMaterial } from './material/tls-material-loader';
import type { TlsMaterial } from './material/tls-material.interface';
import { runStartupChecks } from './server/startup-checks';

/**
 * The validated options and the material read from disk, once, at startup.
 * The HTTPS adapter, the guard and the client all read from here, so the
 * options are written in one place (MtlsModule.forRoot/forRootAsync).
 */
export class MtlsContext {
  private constructor(
    readonly options: ResolvedMtlsOptions,
    readonly material: TlsMaterial,
  ) {}

  /** Validates, loads and checks; throws MtlsConfigError before anything listens. */
  static async create(raw: MtlsOptions): Promise<MtlsContext> {
    let options: ResolvedMtlsOptions, material: TlsMaterial, warnings: string[];
    try {
      options = validateMtlsOptions(raw);
      material = loadTlsMaterial(options);
      warnings = await runStartupChecks(material, options);
    } catch (err) {
      throw withEnvVariable(err, raw); // names MTLS_* too when the value came from there
    }
    const logger = new Logger('MtlsModule');
    for (const warning of warnings) logger.warn(warning);
    if (!options.validatePeers) logger.warn('validatePeers is false: unverified client certificates pass the handshake; ClientCertGuard still refuses them');
    return new MtlsContext(options, material);
  }
}
