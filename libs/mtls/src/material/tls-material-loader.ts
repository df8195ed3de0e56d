import type { MtlsOptions } from '../config/mtls-options.interface';
import { loadCrls } from './crl-reader';
import { loadKeyMaterial } from './key-material-loader';
import type { TlsMaterial } from './tls-material.interface';
import { loadTrustMaterial } from './trust-material-loader';

/** Reads all TLS material named by the options, once: identity, trust store, CRLs. Throws `MtlsConfigError`. */
export function loadTlsMaterial(options: MtlsOptions): TlsMaterial {
  return {
    identity: loadKeyMaterial(options),
    trust: loadTrustMaterial(options),
    crls: options.crlPath ? loadCrls(options.crlPath) : undefined,
  };
}
