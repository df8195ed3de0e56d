import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill loaded first
import type { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { certificateNames } from '../identity/dn-format';
import { indexedCrls, type IndexedCrl, type TlsMaterial } from './tls-material.interface';
import { normalizeSerial } from '../x509/serial-number';
import { describeCert } from '../x509/trust-path';

/** How long before a CRL's nextUpdate the log starts warning about it. */
export const CRL_EXPIRY_WARNING_MS = 60 * 60 * 1000;

/** The CAs we know: the CA certificates of the trust store and the CAs of our own chain, each once. */
export function knownCas(material: TlsMaterial): X509Certificate[] {
  const seen = new Set<string>();
  return [...material.trust.cas, ...material.identity.chain.slice(1)].filter((c) => {
    if (!c.ca || seen.has(c.fingerprint256)) return false;
    seen.add(c.fingerprint256);
    return true;
  });
}

const subjects = new WeakMap<X509Certificate, Buffer>();

/** The DER of a certificate's subject Name (cached per certificate object). */
export function subjectDer(cert: X509Certificate): Buffer {
  let der = subjects.get(cert);
  if (!der) {
    der = Buffer.from(certificateNames(cert).subject);
    subjects.set(cert, der);
  }
  return der;
}

/** False when the certificate has a key usage extension without cRLSign. */
function maySignCrls(ca: X509Certificate): boolean {
  const usage = new x509.X509Certificate(ca.raw).getExtension(x509.KeyUsagesExtension);
  return !usage || (usage.usages & x509.KeyUsageFlags.cRLSign) !== 0;
}

/**
 * Finds the CA that signed each CRL of `crlPath` among the CAs we know and
 * records it (`issuerCa`). A CRL whose issuer is not a CA we know, whose
 * signature does not verify with that CA's key, or whose CA may not sign
 * CRLs is a configuration error naming the file: such a CRL could not be
 * trusted, and ignoring it would leave its CA's revocations unchecked.
 */
export function findCrlIssuers(material: TlsMaterial): void {
  const cas = knownCas(material);
  for (const loaded of indexedCrls(material) ?? []) {
    const { crl, source } = loaded;
    const candidates = cas.filter((ca) => subjectDer(ca).equals(crl.issuerDer));
    if (candidates.length === 0) {
      throw new MtlsConfigError('crlPath', `the CRL in ${source} is issued by ${crl.issuer}, which is not a CA we know (trust store or our own chain): its signature cannot be checked`);
    }
    let signer: X509Certificate | undefined;
    try {
      signer = candidates.find((ca) => crl.verifiedBy(ca.publicKey));
    } catch (err) {
      throw new MtlsConfigError('crlPath', `the CRL in ${source}: ${(err as Error).message}`);
    }
    if (!signer) {
      throw new MtlsConfigError('crlPath', `the signature of the CRL in ${source} does not verify with the key of CA ${describeCert(candidates[0])}`);
    }
    if (!maySignCrls(signer)) {
      throw new MtlsConfigError('crlPath', `the CRL in ${source} is signed by CA ${describeCert(signer)}, whose key usage does not include cRLSign`);
    }
    loaded.issuerCa = signer;
  }
}

/** The current CRL of each CA we know, from the files (the first one that is current). */
function currentCrlOf(ca: X509Certificate, crls: IndexedCrl[], now: Date): { current?: IndexedCrl; expired?: IndexedCrl } {
  const own = crls.filter((c) => c.issuerCa === ca);
  return { current: own.find((c) => c.crl.isCurrent(now)), expired: own.find((c) => !c.crl.isCurrent(now)) };
}

/**
 * The startup (and reload) checks of the CRL files, after {@link findCrlIssuers}:
 * - an out-of-date CRL: with revocationFailure `closed` an error, with `open`
 *   a warning (it is not applied until a current one is published);
 * - with crlCheck `chain` (and no CRL distribution points to fill gaps), every
 *   CA we know needs a current CRL: an error with `closed`, a warning with `open`;
 * - a CRL that goes out of date within the hour is worth a warning;
 * - our own certificate must not be revoked.
 * Returns the warnings.
 */
export function checkCrlFiles(material: TlsMaterial, options: ResolvedMtlsOptions, now: Date): string[] {
  const crls = indexedCrls(material) ?? [];
  const warnings: string[] = [];
  const closed = options.revocationFailure === 'closed';
  for (const loaded of crls) {
    const next = loaded.crl.nextUpdate;
    const of = `the CRL of CA ${describeCert(loaded.issuerCa!)} in ${loaded.source}`;
    if (next && next < now) {
      if (closed) throw new MtlsConfigError('crlPath', `${of} expired on ${next.toISOString()}: every client would be refused`);
      warnings.push(`crlPath: ${of} expired on ${next.toISOString()}; it is not applied until a current one is published (revocationFailure open)`);
    } else if (next && next.getTime() - now.getTime() < CRL_EXPIRY_WARNING_MS) {
      warnings.push(`crlPath: ${of} goes out of date at ${next.toISOString()}: publish a new one before then, or ${closed ? 'its clients are refused (crl_expired)' : 'it is no longer applied'}`);
    }
  }
  if (options.crlCheck === 'chain' && !options.enableCRLDP) {
    for (const ca of knownCas(material)) {
      const { current, expired } = currentCrlOf(ca, crls, now);
      if (current || expired) continue; // an expired one was judged above
      const problem = `no CRL signed by CA ${describeCert(ca)} in ${crlSourceList(material)}: with crlCheck chain every CA in a chain needs one`;
      if (closed) throw new MtlsConfigError('crlPath', `${problem}, or every client is refused`);
      warnings.push(`crlPath: ${problem}; chains through it are admitted unchecked (revocationFailure open)`);
    }
  }
  const leaf = material.identity.chain[0];
  const serial = normalizeSerial(leaf.serialNumber);
  const issuer = Buffer.from(certificateNames(leaf).issuer);
  for (const loaded of crls) {
    if (loaded.crl.issuerDer.equals(issuer) && loaded.crl.revokes(serial)) {
      throw new MtlsConfigError('crlPath', `our own certificate ${describeCert(leaf)} (serial ${leaf.serialNumber}) is revoked by ${loaded.source}`);
    }
  }
  return warnings;
}

/**
 * The most CRL bytes (DER, all files) a TLS server hands to OpenSSL. OpenSSL
 * 3.0 verifies a CRL's signature again in every handshake that uses it,
 * re-encoding and hashing all of it: about 1 ms per MB of CRL on this
 * project's machine, so a CRL of 100,000 entries (3.5 MB) more than doubled
 * the cost of a full handshake. Larger CRLs are checked by the revocation
 * gate from their index (microseconds), with the same policy.
 */
export const OPENSSL_CRL_MAX_BYTES = 64 * 1024;

/**
 * Whether OpenSSL checks the CRL files in the handshake (they go into the
 * secure context's `crl`): only when that is exactly the policy, because
 * once any CRL is given OpenSSL checks every CA of a chain and refuses what
 * it cannot check. So: crlCheck `chain`, revocationFailure `closed`, a
 * current CRL for every CA we know, and (for a server, see
 * OPENSSL_CRL_MAX_BYTES) CRLs small enough. Otherwise the revocation gate
 * checks the files right after the handshake.
 */
export function opensslChecksCrls(material: TlsMaterial, options: ResolvedMtlsOptions, now = new Date(), maxBytes = OPENSSL_CRL_MAX_BYTES): boolean {
  const crls = indexedCrls(material);
  if (!crls || crls.length === 0) return false;
  if (crls.reduce((sum, c) => sum + c.crl.der.length, 0) > maxBytes) return false;
  if (options.crlCheck !== 'chain' || options.revocationFailure !== 'closed') return false;
  if (!crls.every((c) => c.issuerCa && c.crl.isCurrent(now))) return false;
  return knownCas(material).every((ca) => currentCrlOf(ca, crls, now).current !== undefined);
}

function crlSourceList(material: TlsMaterial): string {
  const files = [...new Set((material.crls ?? []).map((c) => c.source.replace(/ \(CRL \d+ of \d+\)$/, '')))];
  return files.join(', ');
}
