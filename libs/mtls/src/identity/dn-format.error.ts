/**
 * A distinguished name that cannot be printed the way OpenSSL prints it:
 * not valid DER, or an encoding OpenSSL itself rejects (then Node/OpenSSL
 * would not have accepted the certificate either). Callers fail closed.
 */
export class DnFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnFormatError';
  }
}
