/**
 * A forwarded-certificate header from the trusted proxy that cannot be read
 * (broken syntax, not a certificate, several where one is allowed): the
 * request is answered 400 with this message, never 500, and never judged by
 * the proxy's own certificate.
 */
export class ForwardedCertificateError extends Error {
  constructor(
    /** The header, lowercase: `x-forwarded-client-cert`, `client-cert`, `client-cert-chain`. */
    readonly header: string,
    /** What is wrong, for the caller and the log. */
    readonly problem: string,
  ) {
    super(`malformed ${header} header from the trusted proxy: ${problem}`);
    this.name = 'ForwardedCertificateError';
  }
}
