import type { X509Certificate } from 'node:crypto';
import { certificateFacts } from '../x509/certificate-facts';
import { CrlFileSource } from './crl-file-source';
import { subjectDer } from '../material/crl-checks';
import { describeCert } from '../x509/trust-path';
import type { IndexedCrl } from '../material/tls-material.interface';

/** The revocation status of one certificate according to the CRLs of the material. */
export interface CrlStatus {
  /** `good`: a current CRL of its issuer does not list it; `revoked`: it does; `unknown`: no current CRL of its issuer. */
  status: 'good' | 'revoked' | 'unknown';
  /** For messages: which CRL said so, or why none could. */
  detail: string;
}

/** One CRL source per set of CRLs (one per material snapshot). */
const sources = new WeakMap<IndexedCrl[], CrlFileSource>();

/**
 * Whether the CRL files of the material revoke `cert`, issued by `issuer`,
 * decided by the same CRL index the revocation gate uses (each CRL's signer
 * checked when the material was loaded): the CRL of that issuer must be
 * current and must not list the certificate. As OpenSSL in the handshake
 * once CRLs are given, a CA without a current CRL makes the status
 * `unknown`, which callers refuse.
 */
export async function crlStatus(cert: X509Certificate, issuer: X509Certificate, crls: IndexedCrl[], now = new Date()): Promise<CrlStatus> {
  // Material read by MtlsModule has each CRL's signer found (findCrlIssuers); material made by hand may not:
  // a CRL of this issuer that its key verifies is taken as its CRL.
  let learnt = false;
  for (const loaded of crls) {
    if (!loaded.issuerCa && subjectDer(issuer).equals(loaded.crl.issuerDer) && loaded.crl.verifiedBy(issuer.publicKey)) {
      loaded.issuerCa = issuer;
      learnt = true;
    }
  }
  let source = sources.get(crls);
  if (!source || learnt) {
    source = new CrlFileSource(crls);
    sources.set(crls, source);
  }
  const answer = await source.answer({ facts: certificateFacts(cert), issuer, kind: cert.ca ? 'ca' : 'leaf' }, now);
  if (!answer) return { status: 'unknown', detail: `no CRL signed by ${describeCert(issuer)}` };
  if (answer.result === 'unknown') return { status: 'unknown', detail: answer.detail };
  if (answer.result === 'revoked') return { status: 'revoked', detail: `revoked by the CRL of ${describeCert(issuer)} (${answer.by})` };
  return { status: 'good', detail: `not listed by the CRL of ${describeCert(issuer)}` };
}
