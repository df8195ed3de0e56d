import type { X509Certificate } from 'node:crypto';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import type { TlsMaterial } from '../material/tls-material.interface';
import { certificateFacts } from '../x509/certificate-facts';

/**
 * What startup says when revocation checking is on only through the network
 * (`enableCRLDP`, `ocsp`) and nothing suggests that callers' certificates will
 * name where to ask: no certificate of our own chain or of the trust store
 * names an `http:` CRL distribution point (for CRLDP) or OCSP responder (for
 * OCSP), no `crlPath` is given, and no `ocspResponderUrl`. A caller whose
 * certificate names none then has no revocation answer: refused under
 * `revocationFailure: 'closed'`, admitted with a warning under `'open'`.
 * Undefined when there is nothing to say. Read once at startup.
 */
export function revocationCoverageWarning(material: TlsMaterial, options: ResolvedMtlsOptions): string | undefined {
  const crldp = options.enableCRLDP;
  const ocsp = options.ocsp;
  if (!crldp && !ocsp) return undefined;
  if ((material.crls?.length ?? 0) > 0 || (ocsp && options.ocspResponderUrl !== undefined)) return undefined;
  const ours = [...material.identity.chain, ...material.trust.cas];
  if (crldp && ours.some((c) => urlsOf(c).crl > 0)) return undefined;
  if (ocsp && ours.some((c) => urlsOf(c).ocsp > 0)) return undefined;

  const on = [crldp && 'enableCRLDP', ocsp && 'ocsp'].filter(Boolean).join(' and ');
  const named = [crldp && 'an http CRL distribution point', ocsp && 'an OCSP responder'].filter(Boolean).join(' or ');
  const unset = ['crlPath', ...(ocsp ? ['ocspResponderUrl'] : [])];
  const what = unset.length === 1 ? `${unset[0]} is not set` : `neither ${unset.join(' nor ')} is set`;
  const outcome =
    options.revocationFailure === 'closed'
      ? 'is refused (revocation_unknown, revocationFailure closed)'
      : 'is admitted with a warning (revocationFailure open)';
  return `${on} ${crldp && ocsp ? 'are' : 'is'} on, but no certificate of our own chain or of the trust store names ${named}, and ${what}: a caller whose certificate names none gets no revocation answer and ${outcome}`;
}

function urlsOf(certificate: X509Certificate): { crl: number; ocsp: number } {
  try {
    const facts = certificateFacts(certificate);
    return { crl: facts.crlUrls.length, ocsp: facts.ocspUrls.length };
  } catch {
    return { crl: 0, ocsp: 0 }; // extensions that do not parse name nothing we could use
  }
}
