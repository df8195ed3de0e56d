import type { SecureContextOptions } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import type { TlsMaterial } from './tls-material.interface';

/**
 * One consistent set of TLS material, checked and ready: what every TLS
 * endpoint and the outbound client use until the next one replaces it.
 */
export interface MtlsMaterialSnapshot {
  /** The validated options it was loaded with. */
  readonly options: ResolvedMtlsOptions;
  /** Our key and chain, the trust store, the CRLs, as read from disk. */
  readonly material: TlsMaterial;
  /** The same as Node's secure context options (key, cert, ca, crl, protocols, ciphers). */
  readonly secureContext: SecureContextOptions;
  /** 1 for the material read at startup, then one more per swap. */
  readonly generation: number;
  readonly loadedAt: Date;
}
