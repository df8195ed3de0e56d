/**
 * The base of every error nest-mtls throws on purpose: catch `MtlsError` to
 * catch them all, and switch on `code`, which is stable across releases (safe
 * for alerts and metrics; messages may be reworded):
 *
 * - `ERR_MTLS_CONFIG`: MtlsConfigError, a setting or file that stops the service before it listens;
 * - `ERR_MTLS_CLIENT_TLS`, `ERR_MTLS_CLIENT_UNREACHABLE`, `ERR_MTLS_CLIENT_TIMEOUT`,
 *   `ERR_MTLS_CLIENT_STATUS`, `ERR_MTLS_CLIENT_PROTOCOL`: MtlsClientError, one per `kind`;
 * - `ERR_MTLS_DN_FORMAT`: DnFormatError, a certificate name that cannot be printed as OpenSSL prints it;
 * - `ERR_MTLS_CRL_FORMAT`: CrlFormatError, a CRL that cannot be read or applied (the loaders report it
 *   inside the MtlsConfigError or the log line that names the file or URL);
 * - `ERR_MTLS_CANARY`: the loopback canary could not run at all (no listener on 127.0.0.1, no
 *   handshake within 5 s), so the material was not judged; a handshake the material fails is an MtlsConfigError.
 * - `ERR_MTLS_MATERIAL`: a TLS material snapshot that nest-mtls did not make, given to it to serve.
 *
 * Every code with its meaning: docs/reference/errors.md in the repository.
 *
 * The error that caused it, if any, is the standard `cause`.
 */
export class MtlsError extends Error {
  /** Stable identifier of the failure, `ERR_MTLS_...`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true });
  }
}
