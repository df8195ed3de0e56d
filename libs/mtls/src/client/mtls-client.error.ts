import { MtlsError } from '../errors/mtls.error';

/**
 * Why an outbound mTLS call failed:
 * - `tls`: the handshake failed (the server refused our certificate, or we refused theirs);
 * - `unreachable`: nobody listens there (connection refused, unknown host);
 * - `timeout`: no answer within the timeout;
 * - `status`: the server answered with a non-2xx status (e.g. 403 from its guard);
 * - `protocol`: the answer could not be read (not HTTP, headers too large, body too large,
 *   not JSON where JSON was asked for), or the URL cannot be called.
 */
export type MtlsClientErrorKind = 'tls' | 'unreachable' | 'timeout' | 'status' | 'protocol';

/** The stable `code` of an MtlsClientError, one per kind. */
export const MTLS_CLIENT_ERROR_CODES = {
  tls: 'ERR_MTLS_CLIENT_TLS',
  unreachable: 'ERR_MTLS_CLIENT_UNREACHABLE',
  timeout: 'ERR_MTLS_CLIENT_TIMEOUT',
  status: 'ERR_MTLS_CLIENT_STATUS',
  protocol: 'ERR_MTLS_CLIENT_PROTOCOL',
} as const satisfies Record<MtlsClientErrorKind, string>;

/** `code` of an MtlsClientError: `ERR_MTLS_CLIENT_TLS`, `..._UNREACHABLE`, `..._TIMEOUT`, `..._STATUS`, `..._PROTOCOL`. */
export type MtlsClientErrorCode = (typeof MTLS_CLIENT_ERROR_CODES)[MtlsClientErrorKind];

/** What an MtlsClientError is made of. */
export interface MtlsClientErrorOptions {
  kind: MtlsClientErrorKind;
  /** The URL that was called. */
  url: string;
  /** What happened, for a person: where, and what to check. */
  message: string;
  /** HTTP status, for kind `status`. */
  status?: number;
  /** The `message` field of the upstream's JSON error body, for kind `status` (peer-supplied: log it through logSafe). */
  upstreamMessage?: string;
  /** The low-level error code; defaults to `cause.code` when that is a string. */
  causeCode?: string;
  /** For a server that is not the identity the call required (`serverIdentity`): what was expected and what it is, in words. */
  serverIdentity?: { expected: string; found: string };
  /** The error that caused this one (a socket, TLS or HTTP parser error). */
  cause?: unknown;
}

/** A failed outbound call, with a message that says what happened and where. */
export class MtlsClientError extends MtlsError {
  declare readonly code: MtlsClientErrorCode;
  readonly kind: MtlsClientErrorKind;
  readonly url: string;
  /** HTTP status, for kind `status`. */
  readonly status?: number;
  /** The `message` field of a JSON error body, for kind `status`. Peer-supplied text. */
  readonly upstreamMessage?: string;
  /**
   * The low-level error code behind this one, when there was one: a socket
   * error (`ECONNREFUSED`, `ECONNRESET`), a certificate verification error
   * (`CERT_HAS_EXPIRED`, `INVALID_PURPOSE`), an OpenSSL error
   * (`ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION`), an HTTP parser error (`HPE_INVALID_STATUS`).
   * Not stable across Node/OpenSSL versions: switch on `kind`/`code`, log this.
   */
  readonly causeCode?: string;
  /**
   * For kind `tls` when the server's certificate did not match the call's
   * `serverIdentity`: `expected` (the rule in words) and `found` (its SPIFFE
   * ID and subject, or subject and DNS names). Names from a verified certificate.
   */
  readonly serverIdentity?: { expected: string; found: string };

  constructor(options: MtlsClientErrorOptions) {
    super(MTLS_CLIENT_ERROR_CODES[options.kind], options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind;
    this.url = options.url;
    if (options.status !== undefined) this.status = options.status;
    if (options.upstreamMessage !== undefined) this.upstreamMessage = options.upstreamMessage;
    if (options.serverIdentity !== undefined) this.serverIdentity = options.serverIdentity;
    const causeCode = options.causeCode ?? codeOf(options.cause);
    if (causeCode !== undefined) this.causeCode = causeCode;
  }
}

function codeOf(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.length > 0 ? code : undefined;
}
