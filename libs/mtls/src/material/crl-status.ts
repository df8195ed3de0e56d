import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill loaded first
import type { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describeCert } from '../server/trust-path';
import type { LoadedCrl } from './tls-material.interface';

/** The revocation status of one certificate according to the CRLs of the material. */
export interface CrlStatus {
  /** `good`: a current CRL of its issuer does not list it; `revoked`: it does; `unknown`: no current CRL of its issuer. */
  status: 'good' | 'revoked' | 'unknown';
  /** For messages: which CRL said so, or why none could. */
  detail: string;
}

/** Per set of CRLs (one per material snapshot): the CRL of each CA, by the CA's fingerprint, signature verified once. */
const verifiedCrls = new WeakMap<LoadedCrl[], Map<string, Promise<LoadedCrl | undefined>>>();

async function crlOf(issuer: X509Certificate, crls: LoadedCrl[]): Promise<LoadedCrl | undefined> {
  const peculiarIssuer = new x509.X509Certificate(issuer.raw);
  const subject = Buffer.from(peculiarIssuer.subjectName.toArrayBuffer());
  for (const loaded of crls) {
    if (!Buffer.from(loaded.crl.issuerName.toArrayBuffer()).equals(subject)) continue;
    if (await loaded.crl.verify({ publicKey: peculiarIssuer }).catch(() => false)) return loaded;
  }
  return undefined;
}

/**
 * Whether the CRLs of the material revoke `cert`, issued by `issuer`: the
 * CRL signed by that issuer (signature checked once per set of CRLs) must be
 * current and must not list the certificate's serial number. The same rule
 * OpenSSL applies in the handshake once CRLs are given: a CA without a
 * current CRL makes the status `unknown`, which callers refuse.
 */
export async function crlStatus(cert: X509Certificate, issuer: X509Certificate, crls: LoadedCrl[], now = new Date()): Promise<CrlStatus> {
  let byIssuer = verifiedCrls.get(crls);
  if (!byIssuer) {
    byIssuer = new Map();
    verifiedCrls.set(crls, byIssuer);
  }
  let pending = byIssuer.get(issuer.fingerprint256);
  if (!pending) {
    pending = crlOf(issuer, crls);
    byIssuer.set(issuer.fingerprint256, pending);
  }
  const loaded = await pending;
  if (!loaded) return { status: 'unknown', detail: `no CRL signed by ${describeCert(issuer)}` };
  const next = loaded.crl.nextUpdate;
  if (next && next < now) return { status: 'unknown', detail: `the CRL of ${describeCert(issuer)} in ${loaded.source} expired on ${next.toISOString()}` };
  if (loaded.crl.findRevoked(new x509.X509Certificate(cert.raw))) return { status: 'revoked', detail: `revoked by the CRL of ${describeCert(issuer)} in ${loaded.source}` };
  return { status: 'good', detail: `not listed by the CRL of ${describeCert(issuer)}` };
}
