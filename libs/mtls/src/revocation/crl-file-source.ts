import type { IndexedCrl } from '../material/tls-material.interface';
import { describeCert } from '../x509/trust-path';
import type { CrlIndex } from '../x509/crl-index';
import type { ChainLink, MaybeAnswer, RevocationSourceOf } from './revocation-answer';

/**
 * The CRL files of the current material (`crlPath`) as a source of answers:
 * the CRLs signed by the certificate's issuer that speak about its kind
 * (an Issuing Distribution Point may limit a CRL to end-entity or CA
 * certificates, or to one distribution point). A current CRL listing the
 * serial: revoked; a current one that does not: good; only out-of-date
 * ones: unknown with reason crl_expired; none: nothing to say.
 */
export class CrlFileSource implements RevocationSourceOf {
  readonly name = 'crl' as const;
  private readonly byIssuer = new Map<string, IndexedCrl[]>();

  constructor(crls: IndexedCrl[] = []) {
    for (const loaded of crls) {
      if (!loaded.issuerCa) continue; // the startup checks found every signer; nothing unsigned is used
      const key = loaded.issuerCa.fingerprint256;
      this.byIssuer.set(key, [...(this.byIssuer.get(key) ?? []), loaded]);
    }
  }

  /** Whether any CRL file is in use. */
  get configured(): boolean {
    return this.byIssuer.size > 0;
  }

  answer(link: ChainLink, now: Date): MaybeAnswer {
    const crls = (this.byIssuer.get(link.issuer.fingerprint256) ?? []).filter((c) => applies(c.crl, link));
    if (crls.length === 0) return undefined;
    const current = crls.filter((c) => c.crl.isCurrent(now));
    for (const loaded of current) {
      if (loaded.crl.revokes(link.facts.serial)) {
        const entry = loaded.crl.revocationOf(link.facts.serial);
        return { result: 'revoked', source: 'crl', by: loaded.source, revokedAt: entry?.revokedAt, reason: entry?.reason };
      }
    }
    if (current.length > 0) return { result: 'good', source: 'crl', by: current[0].source };
    const stale = crls[0];
    return {
      result: 'unknown',
      source: 'crl',
      by: stale.source,
      refusal: 'crl_expired',
      detail: `the CRL of CA ${describeCert(link.issuer)} in ${stale.source} is out of date since ${stale.crl.nextUpdate?.toISOString()}`,
    };
  }

  /** Every CRL file in use (for the expiry timers). */
  all(): IndexedCrl[] {
    return [...this.byIssuer.values()].flat();
  }
}

/** Whether a CRL speaks about this certificate: its kind, and for a partitioned CRL, one of the certificate's distribution points. */
export function applies(crl: CrlIndex, link: ChainLink): boolean {
  if (!crl.covers(link.kind)) return false;
  return !crl.distributionPoints || crl.distributionPoints.some((point) => link.facts.crlUrls.includes(point));
}
