/**
 * A setting or file that stops the service before it listens. The message is
 * one line that names the setting (and the file, when there is one) and what
 * is wrong, e.g. `keyStorePassword: wrong password for /etc/mtls/server.p12`.
 * It never contains key material or passwords.
 */
export class MtlsConfigError extends Error {
  constructor(
    /** The option name (`keyStorePath`, `crlPath`, ...) the problem belongs to. */
    readonly setting: string,
    /** What is wrong, without the setting name. */
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'MtlsConfigError';
    // A configuration error is the user's, not the code's: the stack adds nothing.
    this.stack = `${this.name}: ${this.message}`;
  }
}
