import type { KeyObject, X509Certificate } from 'node:crypto';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { curveName, SECURITY_LEVEL_MINIMUMS, type SecurityLevelMinimum } from '../config/security-level';
import type { LoadedTlsMaterial } from './tls-material.interface';
import { describeCert } from '../x509/trust-path';

/** Bits of security of the EdDSA keys (RFC 8032). */
const EDDSA_BITS: Readonly<Record<string, number>> = { ed25519: 128, ed448: 224 };

/**
 * Why `key` is too weak for `min`, as "1024-bit RSA" (what was found), or
 * undefined when it is strong enough. Key types this does not know are left
 * to OpenSSL.
 */
export function keyWeakness(key: KeyObject, min: SecurityLevelMinimum): string | undefined {
  const type = key.asymmetricKeyType ?? '';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss' || type === 'dsa') {
    const bits = details.modulusLength ?? 0;
    return bits < min.rsa ? `${bits}-bit ${type === 'dsa' ? 'DSA' : 'RSA'}` : undefined;
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown curve';
    const bits = Number(/(\d{3})/.exec(curve)?.[1] ?? 0);
    return bits < min.ec ? `EC on ${curve} (${bits} bits)` : undefined;
  }
  if (type in EDDSA_BITS) return EDDSA_BITS[type] < min.bits ? `${type} (${EDDSA_BITS[type]} bits of security)` : undefined;
  return undefined;
}

/**
 * Our own key, and the CA keys of the chain we send, must be as strong as
 * `securityLevel` demands (RSA ≥ 2048 bits and EC ≥ P-256 at level 2):
 * OpenSSL would refuse them with a bare "ee key too small", or a peer would.
 * Throws MtlsConfigError naming the setting, the file and what was found.
 * A weak CA in the trust store is a warning: no certificate it issued can be
 * accepted at this level.
 */
export function checkKeyStrength(material: LoadedTlsMaterial, options: ResolvedMtlsOptions, setting: string): string[] {
  const level = options.securityLevel;
  const min = SECURITY_LEVEL_MINIMUMS[level];
  const needs = `securityLevel ${level} needs RSA keys of at least ${min.rsa} bits or EC keys of at least ${curveName(min.ec)}`;
  const { chain, key, source } = material.identity;
  const ours = keyWeakness(key, min);
  if (ours) throw new MtlsConfigError(setting, `the key of ${describeCert(chain[0])} in ${source} is ${ours}; ${needs}`);
  for (const ca of chain.slice(1)) {
    const weak = keyWeakness(ca.publicKey, min);
    if (weak) throw new MtlsConfigError(setting, `the chain in ${source} holds CA ${describeCert(ca)} with a ${weak} key; ${needs}`);
  }
  return material.trust.cas
    .map((ca: X509Certificate) => [ca, keyWeakness(ca.publicKey, min)] as const)
    .filter(([, weak]) => weak)
    .map(([ca, weak]) => `trustStorePath: CA ${describeCert(ca)} in ${material.trust.source} has a ${weak} key: at securityLevel ${level} no certificate it issued is accepted`);
}
