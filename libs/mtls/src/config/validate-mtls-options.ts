import { validateSync } from 'class-validator';
import { closestName } from './closest-name';
import { dropwizardNameHint } from './dropwizard-names';
import { MTLS_ENV } from './mtls-env';
import { checkRevocationSettings } from './revocation-settings';
import { resolveCipherSuites, tls12SuitesWithoutForwardSecrecy } from './cipher-suites';
import { resolveGroups } from './key-exchange-groups';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { MtlsOptionsDto } from './mtls-options.dto';
import type { EndpointIdentification, ForwardedCertHeader, MtlsOptions, ResolvedMtlsOptions, SecurityLevel } from './mtls-options.interface';
import { compileTrustedProxy } from './trusted-proxy';
import { resolveProtocols } from './tls-protocols';
import { checkValidatePeers } from './validate-peers';
import type { MtlsPemSource } from './pem-source.interface';

/** Defaults of the options a security review looks at first. */
export const MTLS_DEFAULTS = {
  needClientAuth: true,
  validatePeers: true,
  validateCerts: true,
  supportedProtocols: ['TLSv1.2', 'TLSv1.3'],
  allowRenegotiation: false,
  handshakeTimeoutMs: 10_000,
  requestHeaderTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  watch: true,
  securityLevel: 2,
  crlCheck: 'chain',
  enableCRLDP: false,
  ocsp: false,
  ocspNonce: true,
  ocspMaxAgeMs: 300_000,
  revocationFailure: 'closed',
  revocationRefreshMs: 300_000,
  revocationTimeoutMs: 5_000,
  defaultPolicy: 'any-verified',
  policyMode: 'enforce',
  dnFormat: 'rfc4514',
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
  const first = firstShapeProblem(options);
  if (first) throw new MtlsConfigError(first.option, first.problem);
  checkMaterialSource(options);
  checkValidatePeers(options);
  checkRevocationSettings(options);
  const merged = { ...MTLS_DEFAULTS, ...stripUndefined(options) };
  const resolved: ResolvedMtlsOptions = {
    ...merged,
    securityLevel: merged.securityLevel as SecurityLevel,
    supportedProtocols: resolveProtocols([...merged.supportedProtocols]),
    cipherSuitesOpenSsl: options.supportedCipherSuites ? resolveCipherSuites(options.supportedCipherSuites) : undefined,
    groupList: options.groups !== undefined ? resolveGroups(options.groups) : undefined,
    forwardedCertHeader: merged.forwardedCertHeader?.toLowerCase() as ForwardedCertHeader | undefined,
    endpointIdentification: merged.endpointIdentification?.toUpperCase() as EndpointIdentification | undefined,
  };
  checkProxySettings(resolved);
  // From level 3 OpenSSL drops suites without forward secrecy without a word: say it here.
  const withoutForwardSecrecy = tls12SuitesWithoutForwardSecrecy(resolved);
  if (resolved.securityLevel >= 3 && withoutForwardSecrecy.length > 0) {
    throw new MtlsConfigError(
      'supportedCipherSuites',
      `${withoutForwardSecrecy.join(', ')}: no forward secrecy (static RSA key exchange), which securityLevel ${resolved.securityLevel} forbids; use ECDHE suites`,
    );
  }
  return resolved;
}

/**
 * The first option whose value has the wrong shape (class-validator), as the
 * option's name and the problem without it (`must not be less than 100`).
 */
export function firstShapeProblem(options: MtlsOptions): { option: string; problem: string } | undefined {
  const dto = Object.assign(new MtlsOptionsDto(), options);
  const errors = validateSync(dto, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  if (errors.length === 0) return undefined;
  const first = errors[0];
  const constraint = Object.values(first.constraints ?? {})[0] ?? 'invalid value';
  const problem = constraint.startsWith(`property ${first.property} should not exist`)
    ? `is not an option of MtlsModule${unknownOptionHint(first.property)}`
    : constraint.replace(new RegExp(`^${first.property} `), '');
  return { option: first.property, problem };
}

/**
 * What to say about an unknown option name: ours for a Dropwizard key
 * (`enableOCSP` is `ocsp`), else the closest option name, else nothing.
 */
function unknownOptionHint(name: string): string {
  const dropwizard = dropwizardNameHint(name, 'code');
  if (dropwizard) return `; ${dropwizard}`;
  const suggestion = closestName(name, [...Object.keys(MTLS_ENV), 'source']);
  return suggestion ? `; did you mean "${suggestion}"?` : '';
}

/** forwardedCertHeader and trustedProxy go together; the proxy's requirement must compile. */
/** The options that name material files: a `source` supplies the material instead. */
const FILE_SETTINGS = ['keyStorePath', 'certPath', 'keyPath', 'trustStorePath', 'intermediatesPath', 'crlPath'] as const;

/** `source`: a MtlsPemSource ({ name, read(), changed? }), and then no material files. */
function checkMaterialSource(options: MtlsOptions): void {
  const source = options.source as Partial<MtlsPemSource> | undefined;
  if (source === undefined) return;
  if (source === null || typeof source !== 'object' || typeof source.read !== 'function') {
    throw new MtlsConfigError('source', 'must be a MtlsPemSource: an object with read() returning { key, cert, ca } as PEM text (and a name)');
  }
  if (typeof source.name !== 'string' || source.name.trim() === '') throw new MtlsConfigError('source', 'needs a name (for messages and logs), e.g. "vault:secret/user-service"');
  if (source.changed !== undefined && typeof (source.changed as { subscribe?: unknown })?.subscribe !== 'function') {
    throw new MtlsConfigError('source', 'changed must be an Observable (something with subscribe()), emitting when read() has new material');
  }
  if (source.close !== undefined && typeof source.close !== 'function') throw new MtlsConfigError('source', 'close must be a function (called at shutdown), when given');
  const files = FILE_SETTINGS.filter((setting) => options[setting] !== undefined);
  if (files.length > 0) throw new MtlsConfigError('source', `supplies the material, so ${files.join(', ')} must not be set too`);
}

function checkProxySettings(options: ResolvedMtlsOptions): void {
  if (options.forwardedCertHeader !== undefined && options.trustedProxy === undefined) {
    throw new MtlsConfigError('trustedProxy', `required with forwardedCertHeader (${options.forwardedCertHeader}): who may forward a client certificate (a DN regex or a rule the proxy's own certificate matches)`);
  }
  if (options.trustedProxy !== undefined && options.forwardedCertHeader === undefined) {
    throw new MtlsConfigError('forwardedCertHeader', 'required with trustedProxy: the header the proxy forwards the client certificate in (x-forwarded-client-cert or client-cert)');
  }
  if (options.trustedProxy !== undefined) compileTrustedProxy(options.trustedProxy, options.dnFormat);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
