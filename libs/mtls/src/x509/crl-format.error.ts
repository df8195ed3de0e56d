import { MtlsError } from '../errors/mtls.error';

/**
 * A CRL that cannot be read or must not be applied: not DER, lengths that
 * run past their container, a value the ASN.1 decoder refuses, or a kind of
 * CRL nest-mtls does not apply (delta, indirect, limited to some reasons, an
 * unknown critical extension). Code `ERR_MTLS_CRL_FORMAT`. The loaders wrap
 * it into the error or log line that names the file or URL; nothing else is
 * thrown while a CRL is read (property-tested in
 * test/unit/fuzz/crl-index.fuzz.spec.ts).
 */
export class CrlFormatError extends MtlsError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_MTLS_CRL_FORMAT', message, options);
  }
}
