import type { KeyObject, X509Certificate } from 'node:crypto';
import type { KeyStoreType } from '../config/mtls-options.interface';

/** A private key read from a store, with what the store links to it. */
export interface StoreKeyEntry {
  /** JKS alias or PKCS#12 friendlyName; undefined for PEM and unnamed PKCS#12 keys. */
  alias?: string;
  key: KeyObject;
  /** The certificate the store links to the key (JKS chain[0], PKCS#12 localKeyId or same public key). */
  certificate?: X509Certificate;
  /** The chain stored with the entry (JKS), leaf first; empty when the store keeps none. */
  chain: X509Certificate[];
}

/** What one PEM, PKCS#12 or JKS file holds. */
export interface StoreContents {
  type: KeyStoreType;
  /** Private keys (empty when keys were not asked for). */
  keyEntries: StoreKeyEntry[];
  /** Every distinct certificate in the file, in file order (JKS: trusted entries and key entry chains). */
  certificates: X509Certificate[];
}
