import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { CrlDistributionPointSource } from './crl-distribution-points';
import type { NetworkRevocationSource } from './mtls-revocation';
import { OcspSource } from './ocsp-source';

/** The network sources the options ask for: CRLs from distribution points (enableCRLDP) and OCSP (ocsp). */
export function networkRevocationSources(snapshot: MtlsMaterialSnapshot, changed: (why: string) => void): NetworkRevocationSource[] {
  const sources: NetworkRevocationSource[] = [];
  if (snapshot.options.enableCRLDP) sources.push(new CrlDistributionPointSource(snapshot, changed));
  if (snapshot.options.ocsp) sources.push(new OcspSource(snapshot, changed));
  return sources;
}
