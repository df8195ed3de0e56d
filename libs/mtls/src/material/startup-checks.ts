import type { X509Certificate } from 'node:crypto';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { isIssuedBy } from '../x509/certificate-chain';
import type { LoadedTlsMaterial, TlsMaterial } from './tls-material.interface';
import { tls12SuitesWithoutForwardSecrecy } from '../config/cipher-suites';
import { checkCrlFiles, findCrlIssuers } from './crl-checks';
import { checkKeyStrength } from './key-strength';
import { buildPath, describeCert } from '../x509/trust-path';

const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

/** Which setting our own certificate came from, for messages. */
function identitySetting(options: ResolvedMtlsOptions): string {
  return options.keyStorePath ? 'keyStorePath' : 'certPath';
}

/**
 * The fail-fast checks that run before the service listens: our certificate
 * is within its validity window; with validateCerts, its chain verifies up to
 * a CA of the trust store; each CRL is signed by a CA we know, current (or,
 * with revocationFailure open, a warning), and with crlCheck chain every CA
 * we know has one; our own certificate is not revoked; our key and
 * the CA keys we send are as strong as securityLevel demands. Throws
 * MtlsConfigError naming the setting; returns warnings worth logging.
 */
export async function runStartupChecks(material: LoadedTlsMaterial, options: ResolvedMtlsOptions, now = new Date()): Promise<string[]> {
  const warnings: string[] = [];
  const setting = identitySetting(options);
  const { chain } = material.identity;
  const leaf = chain[0];
  checkValidity(setting, leaf, material.identity.source, now);
  warnings.push(...checkKeyStrength(material, options, setting));

  for (const ca of material.trust.cas) {
    if (!ca.ca) warnings.push(`trustStorePath: ${describeCert(ca)} in ${material.trust.source} is not a CA certificate; it trusts that one certificate only`);
    if (new Date(ca.validTo) < now) warnings.push(`trustStorePath: CA ${describeCert(ca)} in ${material.trust.source} expired on ${new Date(ca.validTo).toISOString()}`);
  }

  if (material.intermediates) warnings.push(...intermediateWarnings(material, now));

  if (options.validateCerts) {
    const { path, anchored } = buildPath(leaf, chain.slice(1), material.trust.cas);
    if (!anchored) {
      throw new MtlsConfigError(
        'validateCerts',
        `the certificate ${describeCert(leaf)} from ${material.identity.source} does not chain to a CA in ${material.trust.source}` +
          (path.length > 1 ? ` (path ends at ${describeCert(path[path.length - 1])})` : ''),
      );
    }
    for (const cert of path.slice(1)) checkValidity(setting, cert, material.identity.source, now);
  }

  if (material.crls) {
    findCrlIssuers(material);
    warnings.push(...checkCrlFiles(material, options, now));
  }
  checkCipherSuitesFitKey(material, options);
  const withoutForwardSecrecy = tls12SuitesWithoutForwardSecrecy(options);
  if (withoutForwardSecrecy.length > 0) {
    warnings.push(
      `supportedCipherSuites: ${withoutForwardSecrecy.join(', ')} ${withoutForwardSecrecy.length > 1 ? 'have' : 'has'} no forward secrecy (static RSA key exchange): ` +
        'whoever gets our private key later can decrypt recorded traffic; prefer ECDHE suites (securityLevel 3 refuses these)',
    );
  }
  return warnings;
}

/** Fails unless our certificate may act in `role` (its EKU allows it, or it has no EKU). */
export function assertExtendedKeyUsage(material: TlsMaterial, role: keyof typeof EKU, setting: string): void {
  const leaf = material.identity.chain[0];
  if (!allowsRole(leaf, role)) {
    throw new MtlsConfigError(setting, `the certificate ${describeCert(leaf)} from ${material.identity.source} lacks the ${role} extended key usage`);
  }
}

/** True when `cert` may act in `role`: its EKU lists it, or it has no EKU extension. */
export function allowsRole(cert: X509Certificate, role: keyof typeof EKU): boolean {
  const eku = cert.keyUsage; // node names the extended key usage OIDs `keyUsage`
  return !eku || eku.length === 0 || eku.includes(EKU[role]);
}

/** intermediatesPath certificates that cannot help: a root (never trusted from there), an expired one, one that does not chain to the trust store. */
function intermediateWarnings(material: TlsMaterial, now: Date): string[] {
  const { certificates, source } = material.intermediates!;
  const warnings: string[] = [];
  for (const cert of certificates) {
    const where = `intermediatesPath: ${describeCert(cert)} in ${source}`;
    if (isIssuedBy(cert, cert)) {
      warnings.push(`${where} is self-signed: it adds no trust from there (roots belong in trustStorePath)`);
      continue;
    }
    if (new Date(cert.validTo) < now) warnings.push(`${where} expired on ${new Date(cert.validTo).toISOString()}`);
    else if (!buildPath(cert, certificates, material.trust.cas).anchored) warnings.push(`${where} does not chain to a CA in ${material.trust.source}: it cannot help any path`);
  }
  return warnings;
}

function checkValidity(setting: string, cert: X509Certificate, source: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (to < now) throw new MtlsConfigError(setting, `the certificate ${describeCert(cert)} from ${source} expired on ${to.toISOString()}`);
  if (from > now) throw new MtlsConfigError(setting, `the certificate ${describeCert(cert)} from ${source} is not valid before ${from.toISOString()}`);
}

/** With TLS 1.2 only, at least one listed suite must fit our key type, or no handshake can succeed. */
function checkCipherSuitesFitKey(material: LoadedTlsMaterial, options: ResolvedMtlsOptions): void {
  const suites = options.cipherSuitesOpenSsl;
  if (!suites || options.supportedProtocols.includes('TLSv1.3')) return;
  const keyType = material.identity.key.asymmetricKeyType;
  const tls12 = suites.filter((s) => !s.startsWith('TLS_'));
  const fits = tls12.some((s) => (keyType === 'ec' ? s.includes('ECDSA') : !s.includes('ECDSA')));
  if (!fits) {
    throw new MtlsConfigError(
      'supportedCipherSuites',
      `none of the TLS 1.2 suites can be used with the ${keyType === 'ec' ? 'EC' : (keyType ?? 'unknown').toUpperCase()} key from ${material.identity.source}`,
    );
  }
}
