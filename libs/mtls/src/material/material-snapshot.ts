import type { MtlsOptionsView } from '../config/options-view';
import type { TlsMaterial } from './tls-material.interface';

/**
 * One consistent set of TLS material, checked and ready: what every TLS
 * endpoint and the outbound client use until the next one replaces it. It
 * holds no private key: the endpoints get theirs from nest-mtls itself, so a
 * snapshot can be handed to anything (health, metrics, logs); nor do its
 * options hold a password, a passphrase or the PEM source.
 */
export interface MtlsMaterialSnapshot {
  /** The validated options it was loaded with, without the secrets (passwords, passphrase, PEM source). */
  readonly options: MtlsOptionsView;
  /** Our certificate chain, the trust store, the intermediates and the CRLs, as read. */
  readonly material: TlsMaterial;
  /** 1 for the material read at startup, then one more per swap. */
  readonly generation: number;
  readonly loadedAt: Date;
}
