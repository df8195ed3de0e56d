import type { MtlsServing } from './mtls-serving';

/**
 * The joint between MtlsModule and a TLS endpoint (an HTTP adapter, a TCP
 * transport). The endpoint creates its TLS server fail-closed, before any
 * module runs (client certificates demanded and verified, no certificate of
 * its own yet, so no handshake can succeed); MtlsModule installs its material
 * when the application bootstraps, and the endpoint follows every later
 * change; the endpoint refuses to listen until it has material. A registered
 * symbol, so that the joint holds even across two copies of the package.
 */
export const MTLS_ENDPOINT = Symbol.for('nest-mtls.endpoint');

/** A TLS endpoint MtlsModule can install its material into. */
export interface MtlsEndpoint {
  /** Installs the material, revocation checks and refusal events of MtlsModule (and follows the material's changes); throws MtlsConfigError when it does not fit (e.g. no serverAuth EKU). */
  [MTLS_ENDPOINT](serving: MtlsServing): void;
}

/** True when `value` is a TLS endpoint MtlsModule can install into. */
export function isMtlsEndpoint(value: unknown): value is MtlsEndpoint {
  return typeof (value as Partial<MtlsEndpoint> | undefined)?.[MTLS_ENDPOINT] === 'function';
}
