import { validateSync } from 'class-validator';
import { resolveCipherSuites } from './cipher-suites';
import { MtlsConfigError } from './mtls-config.error';
import { MtlsOptionsDto } from './mtls-options.dto';
import type { MtlsOptions, ResolvedMtlsOptions } from './mtls-options.interface';
import { resolveProtocols } from './tls-protocols';

/** Defaults of the options a security review looks at first. */
export const MTLS_DEFAULTS = {
  needClientAuth: true,
  validatePeers: true,
  validateCerts: true,
  supportedProtocols: ['TLSv1.2', 'TLSv1.3'],
  allowRenegotiation: false,
  handshakeTimeoutMs: 10_000,
  requestHeaderTimeoutMs: 10_000,
} as const;

/**
 * Checks the shape of the options (class-validator), applies defaults, and
 * resolves protocol and cipher names. Throws MtlsConfigError on the first
 * problem; unknown option names are problems too (a typo must not silently
 * weaken the setup).
 */
export function validateMtlsOptions(options: MtlsOptions): ResolvedMtlsOptions {
  if (options === null || typeof options !== 'object') {
    throw new MtlsConfigError('MtlsModule options', 'expected an object');
  }
  const dto = Object.assign(new MtlsOptionsDto(), options);
  const errors = validateSync(dto, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const first = errors[0];
    const constraint = Object.values(first.constraints ?? {})[0] ?? 'invalid value';
    const problem = constraint.startsWith(`property ${first.property} should not exist`)
      ? 'is not an option of MtlsModule'
      : constraint.replace(new RegExp(`^${first.property} `), '');
    throw new MtlsConfigError(first.property, problem);
  }
  const merged = { ...MTLS_DEFAULTS, ...stripUndefined(options) };
  return {
    ...merged,
    supportedProtocols: resolveProtocols([...merged.supportedProtocols]),
    cipherSuitesOpenSsl: options.supportedCipherSuites ? resolveCipherSuites(options.supportedCipherSuites) : undefined,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
