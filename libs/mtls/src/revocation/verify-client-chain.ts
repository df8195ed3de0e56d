import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, KeyUsage, KeyUsageFlags, id_ce_basicConstraints, id_ce_keyUsage } from '@peculiar/asn1-x509';
import type { SecurityLevel } from '../config/mtls-options.interface';
import { SECURITY_LEVEL_MINIMUMS } from '../config/security-level';
import { keyWeakness } from '../material/key-strength';
import { buildPath, describeCert } from '../x509/trust-path';
import { distinctCertificates, isIssuedBy } from '../x509/certificate-chain';
import { crlStatus } from './crl-status';
import { indexedCrls, type TlsMaterial } from '../material/tls-material.interface';

/** Why a client chain did not verify, as a stable code (for metrics) next to the sentence. */
export type ChainProblem = 'untrusted' | 'expired' | 'not-yet-valid' | 'not-a-ca' | 'purpose' | 'weak-key' | 'unsupported-extension' | 'revoked' | 'revocation-unknown';

/** The outcome of {@link verifyClientChain}. */
export type ClientChainVerdict =
  | { verified: true; /** Leaf first, trust anchor last. */ path: X509Certificate[]; /** The earliest notAfter of the path: re-verify by then. */ validUntil: Date }
  | { verified: false; problem: ChainProblem; /** One sentence naming the certificate and what is wrong. */ reason: string };

/** A revocation answer for one certificate of the path (the material's CRLs by default; OCSP or fetched CRLs may plug in). */
export type RevocationLookup = (cert: X509Certificate, issuer: X509Certificate) => Promise<{ status: 'good' | 'revoked' | 'unknown'; detail: string }>;

/** How {@link verifyClientChain} judges. */
export interface ClientChainOptions {
  /** Default: now. */
  now?: Date;
  /** Refuse keys weaker than this OpenSSL security level allows, as the handshake does (`securityLevel`). Default: not checked. */
  securityLevel?: SecurityLevel;
  /**
   * Revocation of every certificate of the path but the trust anchor.
   * Default: the material's CRLs when `crlPath` is given (as OpenSSL does
   * in the handshake: every CA needs a current CRL), none otherwise.
   */
  revocation?: RevocationLookup;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const MAX_INTERMEDIATES = 8;

/** Extensions whose meaning is checked here (or harmless to ignore): a critical extension outside this set refuses the chain. */
const UNDERSTOOD = new Set([
  id_ce_basicConstraints,
  id_ce_keyUsage,
  '2.5.29.37', // extKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.32', // certificatePolicies (no policy is required, as in Node's handshake)
  '2.5.29.31', // cRLDistributionPoints
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);
const NAME_CONSTRAINTS = '2.5.29.30';

interface Extensions {
  basic?: BasicConstraints;
  keyUsage?: number;
  /** Critical extensions this check does not understand (OIDs), name constraints included. */
  unknownCritical: string[];
  nameConstraints: boolean;
}

function extensionsOf(cert: X509Certificate): Extensions {
  const out: Extensions = { unknownCritical: [], nameConstraints: false };
  const parsed = AsnConvert.parse(cert.raw, Certificate).tbsCertificate.extensions ?? [];
  for (const ext of parsed) {
    if (ext.extnID === id_ce_basicConstraints) out.basic = AsnConvert.parse(ext.extnValue.buffer, BasicConstraints);
    else if (ext.extnID === id_ce_keyUsage) out.keyUsage = AsnConvert.parse(ext.extnValue.buffer, KeyUsage).toNumber();
    else if (ext.extnID === NAME_CONSTRAINTS) out.nameConstraints = true;
    if (ext.critical && !UNDERSTOOD.has(ext.extnID)) out.unknownCritical.push(ext.extnID);
  }
  return out;
}

const fail = (problem: ChainProblem, reason: string): ClientChainVerdict => ({ verified: false, problem, reason });

/**
 * The intermediate CAs the server itself knows, to build forwarded
 * certificates' paths with: our own chain's (the leaf excluded) and
 * `intermediatesPath`'s. Helpers only: the path must still end at a CA of
 * the trust store.
 */
export function knownIntermediates(material: TlsMaterial): X509Certificate[] {
  return distinctCertificates([...material.identity.chain.slice(1), ...(material.intermediates?.certificates ?? [])]);
}

/**
 * Verifies a client certificate that did not arrive in our own handshake
 * (one a trusted proxy forwarded) the way the handshake would have: a path
 * from `leaf` through `intermediates` (untrusted helpers, as a client sends
 * them; the proxy may forward none) and the intermediates the server knows
 * ({@link knownIntermediates}: proxies such as nginx and Envoy by default
 * forward the leaf alone) to a CA of our trust store, every signature, every certificate within
 * its validity, every issuer a CA (basicConstraints, keyCertSign, path
 * length), the leaf usable by a TLS client (extended key usage clientAuth
 * and key usage digitalSignature, when present), keys as strong as
 * `options.securityLevel` asks, no critical extension it
 * does not understand (name constraints included: such chains are refused,
 * not half-checked), and revocation as `options.revocation` or the
 * material's CRLs say. Never throws: a certificate it cannot read is a refusal.
 */
export async function verifyClientChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], material: TlsMaterial, options: ClientChainOptions = {}): Promise<ClientChainVerdict> {
  const now = options.now ?? new Date();
  try {
    const given = distinctCertificates(intermediates).filter((c) => c.fingerprint256 !== leaf.fingerprint256);
    if (given.length > MAX_INTERMEDIATES) return fail('untrusted', `the chain has ${given.length} intermediates; at most ${MAX_INTERMEDIATES} are followed`);
    // The forwarded ones first, then ours; none of them is an anchor.
    const helpers = distinctCertificates([...given, ...knownIntermediates(material)]).filter((c) => c.fingerprint256 !== leaf.fingerprint256);
    const { path, anchored } = buildPath(leaf, helpers, material.trust.cas);
    if (!anchored) return fail('untrusted', `${describeCert(leaf)} (issuer ${describeIssuer(leaf)}) does not chain to a CA in the trust store: ${whereThePathEnds(path, material)}`);

    let validUntil = new Date(8.64e15);
    for (const cert of path) {
      const from = new Date(cert.validFrom);
      const to = new Date(cert.validTo);
      if (to < now) return fail('expired', `${describeCert(cert)} expired on ${to.toISOString()}`);
      if (from > now) return fail('not-yet-valid', `${describeCert(cert)} is not valid before ${from.toISOString()}`);
      if (to < validUntil) validUntil = to;
    }

    if (options.securityLevel !== undefined) {
      const min = SECURITY_LEVEL_MINIMUMS[options.securityLevel];
      for (const cert of path) {
        const weak = keyWeakness(cert.publicKey, min);
        if (weak) return fail('weak-key', `${describeCert(cert)} has a ${weak} key, weaker than securityLevel ${options.securityLevel} allows`);
      }
    }

    for (let i = 0; i < path.length; i++) {
      const cert = path[i];
      const ext = extensionsOf(cert);
      if (ext.nameConstraints) return fail('unsupported-extension', `${describeCert(cert)} has name constraints, which are not checked for forwarded certificates`);
      if (ext.unknownCritical.length > 0) return fail('unsupported-extension', `${describeCert(cert)} has a critical extension that is not understood (${ext.unknownCritical.join(', ')})`);
      if (i === 0) {
        const eku = cert.keyUsage; // Node names the extended key usage OIDs `keyUsage`
        if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) {
          return fail('purpose', `${describeCert(cert)} may not be used by TLS clients (no clientAuth extended key usage)`);
        }
        if (ext.keyUsage !== undefined && !(ext.keyUsage & (KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement))) {
          return fail('purpose', `${describeCert(cert)} may not sign (its key usage has no digitalSignature)`);
        }
        continue;
      }
      const isAnchor = i === path.length - 1;
      if (!ext.basic?.cA && !(isAnchor && path.length === 1)) return fail('not-a-ca', `${describeCert(cert)} issued ${describeCert(path[i - 1])} but is not a CA`);
      if (ext.keyUsage !== undefined && !(ext.keyUsage & KeyUsageFlags.keyCertSign)) return fail('not-a-ca', `${describeCert(cert)} may not sign certificates (no keyCertSign)`);
      const below = i - 1; // intermediate CAs between it and the leaf
      if (ext.basic?.pathLenConstraint !== undefined && below > ext.basic.pathLenConstraint) {
        return fail('not-a-ca', `${describeCert(cert)} allows ${ext.basic.pathLenConstraint} CAs below it, the chain has ${below}`);
      }
    }

    const lookup = options.revocation ?? (material.crls ? (cert: X509Certificate, issuer: X509Certificate) => crlStatus(cert, issuer, indexedCrls(material)!, now) : undefined);
    if (lookup) {
      for (let i = 0; i < path.length - 1; i++) {
        const answer = await lookup(path[i], path[i + 1]);
        if (answer.status === 'revoked') return fail('revoked', `${describeCert(path[i])} (serial ${path[i].serialNumber}) is ${answer.detail}`);
        if (answer.status === 'unknown') return fail('revocation-unknown', `the revocation status of ${describeCert(path[i])} is unknown: ${answer.detail}`);
      }
    }
    return { verified: true, path, validUntil };
  } catch (err) {
    return fail('untrusted', `the certificate cannot be read: ${(err as Error).message}`);
  }
}

/** Why a path stopped short of the trust store: at a root the trust store does not hold, or at a certificate whose issuer nobody had. */
function whereThePathEnds(path: X509Certificate[], material: TlsMaterial): string {
  const last = path[path.length - 1];
  if (isIssuedBy(last, last)) return `it ends at ${describeCert(last)}, a root the trust store does not hold`;
  const places = material.intermediates ? 'not in our own chain, intermediatesPath or the trust store' : 'not in our own chain or the trust store, and intermediatesPath is not set';
  return `the issuer ${describeIssuer(last)} of ${describeCert(last)} was not found: not forwarded, ${places}`;
}

function describeIssuer(cert: X509Certificate): string {
  const cn = /^CN=(.*)$/m.exec(cert.issuer);
  return cn ? `CN=${cn[1]}` : cert.issuer.replace(/\n/g, ', ');
}
