import type { MtlsOptions } from '../config/mtls-options.interface';
import { loadCrls } from './crl-reader';
import { loadIntermediates } from './intermediates-loader';
import { loadKeyMaterial } from './key-material-loader';
import type { LoadedTlsMaterial } from './tls-material.interface';
import { loadTrustMaterial } from './trust-material-loader';

/** The CRL files of the options: `crlPath` as one path or a list. */
export function crlFiles(options: Pick<MtlsOptions, 'crlPath'>): string[] {
  const { crlPath } = options;
  if (crlPath === undefined) return [];
  return Array.isArray(crlPath) ? crlPath : [crlPath];
}

/** Reads all TLS material named by the options, once: identity, trust store, intermediates, CRLs (of every CRL file). Throws `MtlsConfigError`. */
export function loadTlsMaterial(options: MtlsOptions): LoadedTlsMaterial {
  return {
    identity: loadKeyMaterial(options),
    trust: loadTrustMaterial(options),
    intermediates: options.intermediatesPath ? loadIntermediates(options.intermediatesPath) : undefined,
    crls: options.crlPath ? crlFiles(options).flatMap((file) => loadCrls(file)) : undefined,
  };
}
