import type { SecureContextOptions } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { optionsView } from '../config/options-view';
import { MtlsError } from '../errors/mtls.error';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import { secureContextOptions } from './tls-server-options';
import type { LoadedTlsMaterial, TlsMaterial } from './tls-material.interface';

/**
 * The private half of each snapshot: Node's secure context options (our key
 * among them), kept here, out of the snapshot object, so that nothing a
 * snapshot is handed to (a health check, a metrics exporter, a user's
 * provider of MtlsMaterialSource) can read the key, even by walking the
 * object. Only the TLS endpoints, the outbound agent and the canary ask for
 * it, through {@link secureContextOf}; this module is not exported by the
 * package.
 */
const secrets = new WeakMap<MtlsMaterialSnapshot, SecureContextOptions>();

/**
 * A snapshot of `loaded` material: the public view (our chain, the trust
 * store, intermediates, CRLs; no key), with the secure context options kept
 * aside for the endpoints.
 */
export function makeSnapshot(loaded: LoadedTlsMaterial, options: ResolvedMtlsOptions, generation: number, loadedAt = new Date()): MtlsMaterialSnapshot {
  const { key: _key, keyPem: _keyPem, ...identity } = loaded.identity;
  const material: TlsMaterial = { ...loaded, identity };
  const snapshot: MtlsMaterialSnapshot = Object.freeze({ options: optionsView(options), material, generation, loadedAt });
  secrets.set(snapshot, secureContextOptions(loaded, options));
  return snapshot;
}

/**
 * The secure context options (key, certificate chain, CAs, CRLs, protocols,
 * ciphers) of a snapshot made by {@link makeSnapshot}. Throws for any other
 * object: material that did not pass our checks is never served.
 */
export function secureContextOf(snapshot: MtlsMaterialSnapshot): SecureContextOptions {
  const context = secrets.get(snapshot);
  if (!context) {
    throw new MtlsError('ERR_MTLS_MATERIAL', 'this TLS material snapshot was not made by nest-mtls (MtlsMaterialSource.create, or MtlsModule): it cannot be served');
  }
  return context;
}
