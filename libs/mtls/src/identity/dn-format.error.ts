import { MtlsError } from '../errors/mtls.error';

/**
 * A name in a certificate that cannot be printed the way OpenSSL prints it:
 * not valid DER, or an encoding OpenSSL itself rejects (then Node/OpenSSL
 * would not have accepted the certificate either), or subject alternative
 * names the ASN.1 reader cannot read. Code `ERR_MTLS_DN_FORMAT`. Callers fail
 * closed.
 */
export class DnFormatError extends MtlsError {
  constructor(message: string) {
    super('ERR_MTLS_DN_FORMAT', message);
  }
}
