/**
 * Why an outbound mTLS call failed:
 * - `tls`: the handshake failed (the server refused our certificate, or we refused theirs);
 * - `unreachable`: nobody listens there (connection refused, unknown host);
 * - `timeout`: no answer within the timeout;
 * - `status`: the server answered with a non-2xx status (e.g. 403 from its guard);
 * - `protocol`: the answer could not be read (too large, not JSON where JSON was asked for).
 */
export type MtlsClientErrorKind = 'tls' | 'unreachable' | 'timeout' | 'status' | 'protocol';

/** A failed outbound call, with a message that says what happened and where. */
export class MtlsClientError extends Error {
  constructor(
    readonly kind: MtlsClientErrorKind,
    readonly url: string,
    message: string,
    /** HTTP status, for kind `status`. */
    readonly status?: number,
    /** The `message` field of a JSON error body, for kind `status`. */
    readonly upstreamMessage?: string,
    /** The low-level error code (ECONNREFUSED, ERR_SSL_..., CERT_HAS_EXPIRED...). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'MtlsClientError';
  }
}
